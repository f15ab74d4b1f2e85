// The config diff of compared runs: each run's spec flattened to dotted paths (model.hidden,
// optimizer.lr, data.noise...), and only the paths whose values differ between the runs.

export type FlatConfig = Record<string, string>

/** Dotted paths to display strings; arrays stay whole (`[8, 8]`), since a width list is one setting. */
export function flattenSpec(spec: unknown, prefix = '', out: FlatConfig = {}): FlatConfig {
  if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
    for (const [key, value] of Object.entries(spec as Record<string, unknown>)) flattenSpec(value, prefix ? `${prefix}.${key}` : key, out)
  } else if (prefix) {
    out[prefix] = Array.isArray(spec) ? `[${spec.map(String).join(', ')}]` : String(spec)
  }
  return out
}

export interface DiffRow {
  path: string
  /** One value per run, in the order given; '—' where a run lacks the field. */
  values: string[]
}

export const MISSING = '—'

/** The fields that differ between the specs, sorted by path. */
export function diffSpecs(specs: unknown[]): DiffRow[] {
  const flats = specs.map((s) => flattenSpec(s))
  const paths = new Set(flats.flatMap((f) => Object.keys(f)))
  const rows: DiffRow[] = []
  for (const path of [...paths].sort()) {
    const values = flats.map((f) => f[path] ?? MISSING)
    if (values.some((v) => v !== values[0])) rows.push({ path, values })
  }
  return rows
}
