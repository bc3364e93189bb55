// The console is served by the broker under /console/ (same origin as the operators' API), so
// every asset URL is relative to that and nothing is fetched from elsewhere.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/console/",
  build: {
    outDir: process.env.SEKTORBRO_CONSOLE_OUT ?? "../build/console",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    target: "es2020",
  },
});
