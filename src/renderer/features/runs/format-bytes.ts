// Sizes on disk as people read them: decimal units, three significant digits ("12.4 MB").
const UNITS = ['bytes', 'kB', 'MB', 'GB', 'TB'] as const

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return '—'
  if (n < 1000) return `${Math.round(n)} bytes`
  let v = n
  let u = 0
  while (v >= 999.5 && u < UNITS.length - 1) {
    v /= 1000
    u++
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[u]}`
}
