// `npm run check:structure` (a stage of `npm test`): the layering in ARCHITECTURE.md, no runtime
// import cycles, and the file-size budget, checked over src/ (plus the size of e2e/, bench/ and
// scripts/). Type-only imports are erased at compile time, so they are not edges here.
// Exceptions live in scripts/structure-allow.json, each with its one-line reason; an exception
// that no longer applies is reported too, so the list only shrinks.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const allow = JSON.parse(readFileSync(join(root, 'scripts/structure-allow.json'), 'utf8'))
const MAX_LINES = allow.maxLines
const MAX_TEST_LINES = allow.maxTestLines

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p, out)
    else if (/\.(ts|vue|mjs)$/.test(name) && !/\.generated\.ts$/.test(name) && !/\.d\.ts$/.test(name)) out.push(p)
  }
  return out
}

const rel = (p) => relative(root, p).split(sep).join('/')
const isTest = (f) => /\.(test|spec)\.ts$/.test(f)

/** Which layer a file belongs to (ARCHITECTURE.md: engine, shared, host, main, preload, renderer). */
function layerOf(f) {
  const r = rel(f)
  if (r.startsWith('src/engine/')) return 'engine'
  if (r.startsWith('src/shared/')) return 'shared'
  if (r.startsWith('src/host/')) return 'host'
  if (r.startsWith('src/main/')) return 'main'
  if (r.startsWith('src/preload/')) return 'preload'
  if (r.startsWith('src/renderer/')) return 'renderer'
  if (r.startsWith('resources/')) return 'resources'
  return 'other'
}

/** Where each layer may import from; the renderer reaches the engine only through its index. */
const MAY_IMPORT = {
  engine: ['engine'],
  shared: ['shared'],
  host: ['host', 'shared', 'engine', 'resources'],
  main: ['main', 'shared', 'host'],
  preload: ['preload', 'shared'],
  renderer: ['renderer', 'shared', 'engine-index'],
}

// import/export … from '…' and bare `import '…'`, skipping `import type` / `export type`.
const IMPORT = /^\s*(?:import|export)\s+(?!type\b)(?:([^'";]*?)\s+from\s+)?['"]([^'"]+)['"]/gm

function runtimeImports(file) {
  const src = readFileSync(file, 'utf8')
  const out = []
  for (const m of src.matchAll(IMPORT)) {
    const clause = m[1] ?? ''
    const spec = m[2]
    if (!spec.startsWith('.')) continue
    // `import { type A, type B } from` is erased as well.
    const braces = /^\{([^}]*)\}$/.exec(clause.trim())
    if (
      braces &&
      braces[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => s.startsWith('type '))
    )
      continue
    const base = resolve(dirname(file), spec.replace(/\?.*$/, '')).replace(/\.js$/, '')
    const target = [base, `${base}.ts`, `${base}.vue`, `${base}.mjs`, join(base, 'index.ts')].find(
      (c) => existsSync(c) && statSync(c).isFile(),
    )
    if (target) out.push(target)
  }
  return out
}

const problems = []
const used = new Set()
const allowed = (list, key) => {
  if (!(key in allow[list])) return false
  used.add(`${list}:${key}`)
  return true
}

// 1. Layering
const srcFiles = walk(join(root, 'src'))
const graph = new Map()
for (const f of srcFiles) {
  const deps = runtimeImports(f)
  graph.set(
    f,
    deps.filter((d) => !isTest(f) || !isTest(d)),
  )
  const from = layerOf(f)
  // Tests sit outside the layers: they may drive the real host from a store test, or check a shared
  // rule against the engine (STYLE.md: test against the real host, not a re-implementation).
  if (isTest(f)) continue
  for (const d of deps) {
    let to = layerOf(d)
    if (to === 'engine' && rel(d) === 'src/engine/index.ts') to = from === 'renderer' ? 'engine-index' : 'engine'
    const ok = MAY_IMPORT[from]?.includes(to) || (to === 'engine-index' && MAY_IMPORT[from]?.includes('engine'))
    if (!ok && !allowed('imports', `${rel(f)} -> ${rel(d)}`)) problems.push(`layering: ${rel(f)} (${from}) imports ${rel(d)} (${to})`)
  }
}

// 2. Runtime import cycles (tests excluded: they sit at the edge of the graph).
const state = new Map()
const stack = []
function visit(v) {
  state.set(v, 1)
  stack.push(v)
  for (const w of graph.get(v) ?? []) {
    if (isTest(w)) continue
    if (state.get(w) === 1) {
      const cycle = stack.slice(stack.indexOf(w)).map(rel)
      const key = [...cycle].sort().join(' ')
      if (!allowed('cycles', key)) problems.push(`cycle: ${cycle.join(' -> ')} -> ${rel(w)}`)
    } else if (!state.has(w)) visit(w)
  }
  stack.pop()
  state.set(v, 2)
}
for (const f of [...graph.keys()].sort()) if (!isTest(f) && !state.has(f)) visit(f)

// 3. File-size budget
for (const f of [...srcFiles, ...walk(join(root, 'e2e')), ...walk(join(root, 'bench')), ...walk(join(root, 'scripts'))]) {
  const lines = readFileSync(f, 'utf8').split('\n').length - 1
  // Tests have their own budget (its reason is in the allow-list, beside the number).
  const max = isTest(f) ? MAX_TEST_LINES : MAX_LINES
  if (lines > max && !allowed('size', rel(f)))
    problems.push(`size: ${rel(f)} has ${lines} lines (budget ${max}; split it, or add it to scripts/structure-allow.json with a reason)`)
}

// Exceptions that no longer apply
for (const list of ['imports', 'cycles', 'size']) {
  for (const key of Object.keys(allow[list]))
    if (!used.has(`${list}:${key}`)) problems.push(`allow-list: "${key}" (${list}) no longer applies; remove it`)
}

if (problems.length > 0) {
  console.error(`check-structure: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`)
  process.exit(1)
}
console.log(
  `check-structure: ${srcFiles.length} files in src/: layering ok, no runtime import cycles, sizes within ${MAX_LINES} lines (${MAX_TEST_LINES} for tests) (${Object.keys(allow.size).length} reviewed exceptions)`,
)
