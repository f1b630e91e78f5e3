import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

const devServer = `http://127.0.0.1:${process.env.PORT ?? '8080'}`;

export default defineConfig({
  root: 'client',
  plugins: [svelte()],
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    sourcemap: true,
    rolldownOptions: {
      input: {
        index: here('client/index.html'),
        // The download service worker (client/src/download-sw.ts): a script of its own, bundled whole.
        'download-sw': here('client/src/download-sw.ts'),
      },
      output: {
        // The page registers the worker by its URL, and a worker's scope may not reach above its
        // script's folder: it stays at the root, under one name. Hashed names elsewhere, as usual.
        entryFileNames: (chunk) => (chunk.name === 'download-sw' ? '[name].js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  server: {
    proxy: {
      // Objects, not strings: a string target makes Vite rewrite Host, which the origin check refuses.
      '/api': { target: devServer },
      '/healthz': { target: devServer },
      '/ws': { target: devServer, ws: true },
    },
  },
  test: {
    root: '.',
    include: ['{signaling,shared,client}/**/*.test.ts'],
    globalSetup: ['signaling/test/redis-global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
