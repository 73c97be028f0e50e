import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const web = fileURLToPath(new URL('.', import.meta.url));
/** Where `vite` (dev) and `vite preview` send API calls: a running `touchpoint serve`. */
const api = process.env.TOUCHPOINT_API ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: web,
  base: '/app/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // Pages are split by React.lazy; the limit is the gzip budget's raw-size neighbourhood.
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { '/api': api } },
  preview: { proxy: { '/api': api } },
});
