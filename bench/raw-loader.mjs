// A Node module hook for the bench: Vite's `?raw` imports (the host's bundled CSV datasets) load
// as a module whose default export is the file's text, so the engine host runs under tsx as it
// does in the electron-vite build. Registered by bench/run.ts before it imports the host.
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
