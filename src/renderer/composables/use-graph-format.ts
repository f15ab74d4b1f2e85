// Compact number and shape formatting for the graph and network views: short enough for a node
// card or a tooltip, exact enough to compare (three significant digits, exponents when tiny).

export function fmtNum(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x)
  if (x === 0) return '0'
  const a = Math.abs(x)
  if (a >= 1e4 || a < 1e-3) return x.toExponential(digits - 1).replace('e+', 'e')
  return String(Number(x.toPrecision(digits)))
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`
}

/** Number of elements of a shape ([] is a scalar: 1). */
export function numel(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1)
}

/** 1234567 → "1.23M": for element counts in the Jacobian notes. */
export function fmtCount(n: number): string {
  if (n < 1e4) return String(n)
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ]
  for (const [size, unit] of units) if (n >= size) return `${Number((n / size).toPrecision(3))}${unit}`
  return String(n)
}

/** Bytes as float32, for "a full Jacobian would need …": 4e9 → "16 GB". */
export function fmtBytes(count: number): string {
  const bytes = count * 4
  const units: [number, string][] = [
    [1e12, 'TB'],
    [1e9, 'GB'],
    [1e6, 'MB'],
    [1e3, 'kB'],
  ]
  for (const [size, unit] of units) if (bytes >= size) return `${Number((bytes / size).toPrecision(3))} ${unit}`
  return `${bytes} B`
}
