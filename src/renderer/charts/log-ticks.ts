// Tick labels for a log axis. Over several decades only the decades are labelled (the 2× and 5×
// ticks crowd the axis); a range inside one decade (a loss between 0.3 and 0.7) has no decade to
// label, so there the 1-2-5 ticks are labelled, or every tick when even those are too few.

const isDecade = (v: number): boolean => v > 0 && Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9

/** 0.1, 0.2, 0.5, 1, 2, 5, 10…: one significant digit, and that digit 1, 2 or 5. */
function isOneTwoFive(v: number): boolean {
  const m = v / 10 ** Math.floor(Math.log10(v) + 1e-9)
  return Math.abs(m - Math.round(m)) < 1e-6 && [1, 2, 5].includes(Math.round(m))
}

/** 0.3, 25, 1e-5, 3e+4: short, and the same wherever the number sits on the axis. */
export function formatLogTick(v: number): string {
  const exp = Math.floor(Math.log10(v) + 1e-9)
  if (exp >= -3 && exp <= 3) return String(Number(v.toPrecision(2)))
  const mantissa = Number((v / 10 ** exp).toPrecision(2))
  return mantissa === 1 ? `1e${exp}` : `${mantissa}e${exp}`
}

/** The labels to show: which of the axis's tick values get one. */
export function labelledLogTicks(values: readonly number[]): Set<number> {
  const positive = values.filter((v) => v > 0)
  const decades = positive.filter(isDecade)
  if (decades.length >= 2) return new Set(decades)
  const oneTwoFive = positive.filter(isOneTwoFive)
  return new Set(oneTwoFive.length >= 2 ? oneTwoFive : positive)
}

/** Chart.js `ticks.callback` for a logarithmic axis. */
export function logTick(value: number | string, index: number, ticks: readonly { value: number }[]): string | null {
  const v = Number(value)
  if (!(v > 0)) return null
  return labelledLogTicks(ticks.map((t) => t.value)).has(ticks[index]?.value ?? v) ? formatLogTick(v) : null
}
