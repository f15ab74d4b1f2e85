// Number formatting for the status line and editors: compact, stable width, never "NaN" text.

export function formatInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—'
}

export function formatLoss(x: number | null): string {
  if (x === null) return '—'
  if (!Number.isFinite(x)) return String(x)
  return Math.abs(x) >= 1000 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toFixed(4)
}

export function formatPercent(x: number | null): string {
  return x === null || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(1)}%`
}

export function formatRate(x: number): string {
  if (!Number.isFinite(x) || x <= 0) return '0'
  return x >= 10_000 ? `${(x / 1000).toFixed(1)}k` : x >= 100 ? x.toFixed(0) : x.toFixed(1)
}
