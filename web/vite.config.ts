import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
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

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react(), precacheManifest()],
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
