// The dashboard's build: `npm run build:web` (and `npm install`, through
// scripts/build-web.mjs) writes web/dist, which `envoi up` serves at `/`.
// No React plugin: esbuild's own JSX transform is all we need, and it keeps
// Babel out of the install.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  esbuild: { jsx: 'automatic' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 600 },
  logLevel: 'warn',
});
