// The playground page: `npm run playground` serves it, `npx vite build --config examples/playground/vite.config.ts`
// writes static files to examples/playground/dist. 'lamina-nn' resolves through package.json "exports"
// with the lamina-src condition, so the page builds from the TypeScript sources without a dist build.
import { fileURLToPath } from 'node:url'
import { defaultClientConditions, defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // relative asset URLs: the build works from any directory or static host
  base: './',
  resolve: { conditions: ['lamina-src', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // gpu.js's browser bundle is one large chunk, loaded only when the page asks for a backend
    chunkSizeWarningLimit: 2000
  },
  server: { host: 'localhost', port: 5173 },
  preview: { host: 'localhost' }
})
