import { defineConfig } from "vite";

// The server serves `dist/` at `/`; the API and the hub share its origin, so no proxy or base.
export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/ws": { target: "ws://127.0.0.1:8000", ws: true },
    },
  },
});
