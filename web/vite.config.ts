import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { defineConfig } from "vite";
import type { Plugin, ProxyOptions } from "vite";
import react from "@vitejs/plugin-react";

const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:8080";

// In development the gateway stays the single backend origin, exactly as in production
// where it serves this build itself.
const proxy: Record<string, ProxyOptions> = {
  "/api": { target: gateway, changeOrigin: true },
  "/collab": { target: gateway, changeOrigin: true, ws: true },
  "/.well-known": { target: gateway, changeOrigin: true },
};

const SERVICE_WORKER = "sw.js";

/**
 * Tells the service worker (src/offline/service-worker.ts, built as /sw.js) which files make
 * up this build, so it can keep them all for offline starts, including the lazily loaded
 * screens the first visit never asked for.
 */
function precacheManifest(): Plugin {
  return {
    name: "palimpsest-precache-manifest",
    apply: "build",
    enforce: "post",
    generateBundle(_options, bundle) {
      const worker = bundle[SERVICE_WORKER];
      if (!worker || worker.type !== "chunk") throw new Error(`the build has no ${SERVICE_WORKER} entry`);
      const files = Object.keys(bundle)
        .filter((name) => name !== SERVICE_WORKER && !name.endsWith(".map") && name !== "index.html")
        .sort()
        .map((name) => `/${name}`);
      const precache = ["/index.html", ...files];
      const version = createHash("sha256").update(precache.join("\n")).digest("hex").slice(0, 12);
      let replaced = 0;
      worker.code = worker.code
        .replace(/(["'`])__PALIMPSEST_PRECACHE__\1/, () => {
          replaced++;
          return JSON.stringify(JSON.stringify(precache));
        })
        .replace(/__PALIMPSEST_VERSION__/, () => {
          replaced++;
          return version;
        });
      if (replaced !== 2) throw new Error(`${SERVICE_WORKER}: the precache placeholders were not found`);
    },
  };
}

/**
 * The web app manifest and its icons, so the app can be installed (a home-screen icon that opens
 * it in its own window, offline included, through the service worker). The PNGs are rendered from
 * the SVGs in icons/ at build time: "any" icons keep the rounded tile, the maskable one and
 * Apple's fill the square (the platform cuts its own shape, inside the safe zone).
 */
function appManifest(): Plugin {
  const icon = (name: string) => fileURLToPath(new URL(`icons/${name}`, import.meta.url));
  const renders = [
    { file: "icons/icon-192.png", svg: "app-icon.svg", size: 192 },
    { file: "icons/icon-512.png", svg: "app-icon.svg", size: 512 },
    { file: "icons/maskable-512.png", svg: "app-icon-full-bleed.svg", size: 512 },
    { file: "icons/apple-touch-icon.png", svg: "app-icon-full-bleed.svg", size: 180 },
  ];
  return {
    name: "palimpsest-app-manifest",
    apply: "build",
    async generateBundle() {
      for (const r of renders) {
        const svg = await readFile(icon(r.svg));
        const png = await sharp(svg, { density: Math.ceil((72 * r.size) / 32) }).resize(r.size, r.size).png().toBuffer();
        this.emitFile({ type: "asset", fileName: r.file, source: png });
      }
      const manifest = {
        id: "/",
        name: "Palimpsest",
        short_name: "Palimpsest",
        description: "Write together, live, and keep every edit.",
        start_url: "/",
        scope: "/",
        display: "standalone",
        background_color: "#f6f4ef",
        theme_color: "#f6f4ef",
        icons: [
          { src: "/icons/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
          { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
          { src: "/icons/maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      };
      this.emitFile({ type: "asset", fileName: "manifest.webmanifest", source: `${JSON.stringify(manifest, null, 2)}\n` });
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react(), appManifest(), precacheManifest()],
  // The workspace install holds more than one copy of these packages (hoisting put newer
  // @tiptap/core and @tiptap/pm at the repository root). Two copies of the editor core, or of
  // yjs, break the editor at runtime, so always take the ones this package depends on.
  resolve: {
    dedupe: ["react", "react-dom", "@tiptap/core", "@tiptap/pm", "@tiptap/extension-list", "yjs", "y-protocols", "lib0"],
  },
  server: { proxy },
  preview: { proxy },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL("index.html", import.meta.url)),
        sw: fileURLToPath(new URL("src/offline/service-worker.ts", import.meta.url)),
      },
      output: {
        // The worker must keep a fixed name at the root: its URL is its identity and its scope.
        entryFileNames: (chunk) => (chunk.name === "sw" ? SERVICE_WORKER : "assets/[name]-[hash].js"),
      },
    },
  },
});
