// Builds the three Electron targets into out/{main,preload,renderer} (electron-vite defaults):
// main as ESM (package.json "type": "module") with two entries — index.js (Electron) and
// serve.js (serve mode in plain Node), sharing the engine worker chunk that `?nodeWorker`
// emits — preload as CommonJS because a sandboxed preload cannot be an ES module, and the Vue
// renderer from src/renderer/index.html. The preload gets the protocol's request kinds as a
// constant: it builds its named functions from them without bundling the schemas (zod).
import { readFileSync } from 'node:fs'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'
import type { Plugin } from 'vite'
import { REQUEST_KINDS } from './src/shared/protocol'

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string }
const define = { __APP_VERSION__: JSON.stringify(pkg.version) }

// The dev server injects CSS through <style> tags, which the strict CSP in index.html forbids.
// Relax style-src for `electron-vite dev` only; built pages keep the strict policy.
function devStyleCsp(): Plugin {
  return {
    name: 'backprop-studio:dev-style-csp',
    apply: 'serve',
    transformIndexHtml: (html) => html.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
  }
}

export default defineConfig({
  main: {
    define,
    build: { rolldownOptions: { input: { index: 'src/main/index.ts', serve: 'src/main/serve.ts' } } },
  },
  preload: {
    define: { ...define, __REQUEST_KINDS__: JSON.stringify(REQUEST_KINDS) },
    build: { rolldownOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } } },
  },
  renderer: {
    root: 'src/renderer',
    define,
    plugins: [vue(), devStyleCsp()],
  },
})
