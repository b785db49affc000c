/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/**
 * The served page runs under a strict CSP and must not reference anything outside the host.
 * React and React Router embed documentation addresses in their error and warning messages
 * (text only, never fetched); drop the scheme so web/dist carries no external URL at all.
 * scripts/bundle-size.mjs fails the build if any other external URL shows up.
 */
const DOC_HOSTS = /https:\/\/(react\.dev|reactrouter\.com|github\.com|tanstack\.com|simplewebauthn\.dev)\//g;

function noExternalUrls(): Plugin {
  return {
    name: "atum-no-external-urls",
    apply: "build",
    renderChunk(code) {
      if (!DOC_HOSTS.test(code)) return null;
      DOC_HOSTS.lastIndex = 0;
      return { code: code.replace(DOC_HOSTS, "$1/"), map: null };
    },
  };
}

export default defineConfig({
  plugins: [react(), noExternalUrls()],
  server: {
    port: 5173,
    proxy: {
      // The API of `make run`; point elsewhere with ATUM_API_URL=http://127.0.0.1:8790 npm run dev
      "/api": { target: process.env.ATUM_API_URL ?? "http://127.0.0.1:8000", changeOrigin: false },
    },
  },
  build: {
    target: "es2022",
    // Fonts must come from 'self' (font-src 'self' forbids data: URIs): never inline assets.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      output: {
        // One cacheable vendor chunk (React, React Router, TanStack Query); app code apart. Only
        // libraries the first page needs go in it ("$initial": statically imported from the
        // entry): the password-strength estimator (~1 MB of dictionaries), the WebAuthn helper,
        // Chart.js (the dashboard and reports charts) and the Markdown renderer (knowledge-base
        // pages, ticket suggestions) are loaded with the lazy pages that need them.
        codeSplitting: {
          groups: [
            {
              name: "vendor",
              test: /node_modules[\\/](?!@zxcvbn-ts[\\/]|@simplewebauthn[\\/]|chart\.js[\\/]|@kurkle[\\/])/,
              tags: ["$initial"],
            },
            { name: "atum", test: /src\/(atum|api|lib)\// },
          ],
        },
      },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    restoreMocks: true,
  },
});
