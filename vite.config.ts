import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

const devServer = `http://127.0.0.1:${process.env.PORT ?? '8080'}`;

export default defineConfig({
  root: 'client',
  plugins: [svelte()],
  build: {
    outDir: '../dist/client',
    emptyOutDir: true,
    sourcemap: true,
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
