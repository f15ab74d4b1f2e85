// A Node module hook for code run outside Vite (tsx: the worker and crash tests, which load the
// engine host from its TypeScript sources): Vite's `?raw` imports (the bundled dataset CSVs) load
// as a module whose default export is the file's text, as electron-vite and vitest do.
import { readFile } from 'node:fs/promises'

export async function resolve(specifier, context, next) {
  if (!specifier.endsWith('?raw')) return next(specifier, context)
  const r = await next(specifier.slice(0, -'?raw'.length), context)
  return { url: `${r.url}?raw`, shortCircuit: true }
}

export async function load(url, context, next) {
  if (!url.endsWith('?raw')) return next(url, context)
  const text = await readFile(new URL(url.slice(0, -'?raw'.length)), 'utf8')
  return { format: 'module', source: `export default ${JSON.stringify(text)}`, shortCircuit: true }
}
