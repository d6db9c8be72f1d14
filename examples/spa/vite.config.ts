import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// `npm run build:spa` builds to examples/spa/dist, which the server serves at / with DEMO_APP=true.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  build: { outDir: 'dist', emptyOutDir: true }
})
