import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import type { ProxyOptions } from "vite";
import react from "@vitejs/plugin-react";

const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:8080";

// In development the gateway stays the single backend origin, exactly as in production
// where it serves this build itself.
const proxy: Record<string, ProxyOptions> = {
  "/api": { target: gateway, changeOrigin: true },
  "/collab": { target: gateway, changeOrigin: true, ws: true },
  "/.well-known": { target: gateway, changeOrigin: true },
};

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [react()],
  // The workspace install holds more than one copy of these packages (hoisting put newer
  // @tiptap/core and @tiptap/pm at the repository root). Two copies of the editor core, or of
  // yjs, break the editor at runtime, so always take the ones this package depends on.
  resolve: {
    dedupe: ["react", "react-dom", "@tiptap/core", "@tiptap/pm", "yjs", "y-protocols", "lib0"],
  },
  server: { proxy },
  preview: { proxy },
  build: {
    outDir: "dist",
    emptyOutDir: true,
  },
});
