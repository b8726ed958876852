// Library build for Airflow's react_apps loader: one UMD file, dist/carbon.js, that registers the views on
// globalThis under the react_apps names (src/main.tsx). React, its JSX runtime, React Router and Chakra UI are
// the host UI's own copies (globals it sets for plugins), so the views share its router, theme and colour mode.
import { defineConfig } from "vite";

const HOST_GLOBALS: Record<string, string> = {
  react: "React",
  "react-dom": "ReactDOM",
  "react/jsx-runtime": "ReactJSXRuntime",
  "react-router-dom": "ReactRouterDOM",
  "@chakra-ui/react": "ChakraUI",
  "@emotion/react": "EmotionReact",
};

export default defineConfig({
  esbuild: { jsx: "automatic", legalComments: "none" },
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  build: {
    outDir: "dist",
    emptyOutDir: false, // dist/ also holds the icons, which are sources
    minify: "esbuild",
    sourcemap: false,
    lib: {
      entry: new URL("src/main.tsx", import.meta.url).pathname,
      formats: ["umd"],
      name: "AirflowPlugin",
      fileName: () => "carbon.js",
    },
    rollupOptions: {
      external: Object.keys(HOST_GLOBALS),
      output: { globals: HOST_GLOBALS, exports: "default" },
    },
  },
});
