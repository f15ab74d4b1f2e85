// Metrics as CSV: one row per step of the run's NDJSON log (train.metrics batches), with the
// evaluation columns filled where an evaluation happened. Unreadable lines (a torn tail after a
// crash) are skipped; a step logged twice keeps its last value; a rewind line (reset, resume)
// drops the rows after its step. A regression run's log with R², RMSE and MAE (in the target's
// units) gets columns for them; other logs keep the classic columns.
const HEADER = ['step', 'train_loss', 'eval_train_loss', 'test_loss', 'train_accuracy', 'test_accuracy']
const FIT_HEADER = ['train_r2', 'test_r2', 'train_rmse', 'test_rmse', 'train_mae', 'test_mae']

interface Row {
  trainLoss?: number
  evalTrainLoss?: number
  testLoss?: number
  trainAccuracy?: number | null
  testAccuracy?: number | null
  /** FIT_HEADER's values, in its order. */
  fit?: (number | null)[]
}

/** An evaluation's regression figures in FIT_HEADER's order, or undefined when it has none. */
function fitOf(ev: Record<string, unknown>): (number | null)[] | undefined {
  const reg = ev.regression as { train?: Record<string, unknown>; test?: Record<string, unknown> } | undefined
  if (typeof reg !== 'object' || reg === null || !reg.train || !reg.test) return undefined
  const { train, test } = reg
  return [train.r2, test.r2, train.rmse, test.rmse, train.mae, test.mae].map((v) => (isNum(v) ? v : null))
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

function parseLine(line: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(line)
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/** RFC 4180 quoting: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return ''
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function metricsCsv(ndjson: string): { csv: string; skippedLines: number } {
  const rows = new Map<number, Row>()
  const row = (step: number): Row => {
    let r = rows.get(step)
    if (!r) rows.set(step, (r = {}))
    return r
  }
  let skippedLines = 0
  for (const line of ndjson.split('\n')) {
    if (line.trim() === '') continue
    const batch = parseLine(line)
    if (!batch) {
      skippedLines++
      continue
    }
    if (batch.k === 'rewind' && Number.isInteger(batch.step)) {
      // A reset or a resume after a crash rewound the run: rows past that step are history.
      for (const step of [...rows.keys()]) if (step > (batch.step as number)) rows.delete(step)
      continue
    }
    const steps = Array.isArray(batch.steps) ? batch.steps : []
    const losses = Array.isArray(batch.trainLoss) ? batch.trainLoss : []
    steps.forEach((s, i) => {
      if (Number.isInteger(s) && isNum(losses[i])) row(s as number).trainLoss = losses[i] as number
    })
    for (const e of Array.isArray(batch.evals) ? batch.evals : []) {
      const ev = e as Record<string, unknown>
      if (!Number.isInteger(ev?.step)) continue
      const r = row(ev.step as number)
      if (isNum(ev.trainLoss)) r.evalTrainLoss = ev.trainLoss
      if (isNum(ev.testLoss)) r.testLoss = ev.testLoss
      r.trainAccuracy = isNum(ev.trainAccuracy) ? ev.trainAccuracy : null
      r.testAccuracy = isNum(ev.testAccuracy) ? ev.testAccuracy : null
      r.fit = fitOf(ev)
    }
  }
  const withFit = [...rows.values()].some((r) => r.fit !== undefined)
  const lines = [(withFit ? [...HEADER, ...FIT_HEADER] : HEADER).join(',')]
  for (const step of [...rows.keys()].sort((a, b) => a - b)) {
    const r = rows.get(step)!
    const cells = [step, r.trainLoss, r.evalTrainLoss, r.testLoss, r.trainAccuracy, r.testAccuracy]
    if (withFit) cells.push(...(r.fit ?? FIT_HEADER.map(() => null)))
    lines.push(cells.map(csvField).join(','))
  }
  return { csv: lines.join('\n') + '\n', skippedLines }
}
