// The run store on a real temporary directory: atomic writes, a torn metrics tail, checkpoint
// thinning, trash and restore, and what startup makes of a run whose process died.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, appendFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { writeFileAtomic } from './atomic'
import { checkpointsToThin } from './checkpoint'
import { readMetricsLog, runMetricsOf, statsOf } from './metrics-log'
import { RunRecorder } from './recorder'
import { runRecord } from './test-helpers'
import { newRunId, RunStore } from './store'
import { RunId } from '../../shared/protocol-runs'

const dirs: string[] = []
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bps-store-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const batch = (steps: number[], evals: { step: number; testLoss: number }[] = []) => ({
  sessionId: 's1',
  steps,
  trainLoss: steps.map((s) => 1 / s),
  epoch: 0,
  evals: evals.map((e) => ({ ...e, trainLoss: e.testLoss, trainAccuracy: null, testAccuracy: 0.5 })),
  layers: [
    {
      step: steps[0],
      stats: [
        { gradNorm: steps[0], meanAbsGrad: 0, maxAbsGrad: 0, weightNorm: 1, updateRatio: 0, deadFraction: null, saturatedFraction: null },
      ],
    },
  ],
  stepsPerSecond: 10,
  lr: 0.01,
})

describe('atomic writes', () => {
  it('replace a file whole and leave no temporary file behind', () => {
    const d = tempDir()
    const f = join(d, 'run.json')
    writeFileAtomic(f, 'one')
    writeFileAtomic(f, new Uint8Array([116, 119, 111]))
    expect(readFileSync(f, 'utf8')).toBe('two')
    expect(readdirSync(d)).toEqual(['run.json'])
    expect(() => writeFileAtomic(join(d, 'run.json', 'x'), 'y')).toThrow(/ENOTDIR/)
    expect(readdirSync(d)).toEqual(['run.json'])
  })

  it('run ids are folder-safe, sortable by time and match the protocol', () => {
    const a = newRunId(new Date(2026, 0, 1))
    const b = newRunId(new Date(2027, 0, 1))
    expect(RunId.safeParse(a).success && RunId.safeParse(b).success).toBe(true)
    expect(a < b).toBe(true)
    expect(newRunId(new Date())).not.toBe(newRunId(new Date()))
  })
})

describe('the metrics log', () => {
  it('skips a torn tail and unreadable lines, never fails; the next append starts a fresh line', () => {
    const store = new RunStore(tempDir())
    const rec = store.create(runRecord())!
    const rr = new RunRecorder(store, rec, () => {})
    rr.appendMetrics(batch([1, 2, 3], [{ step: 0, testLoss: 0.9 }]))
    rr.appendMetrics(batch([4, 5]))
    rr.close('interrupted')
    const log = join(store.runDir(rec.runId), 'metrics.ndjson')
    appendFileSync(log, '{"k":"m","steps":[6,7],"trainLo') // the process died mid-write
    let h = readMetricsLog(log)
    expect(h.steps).toEqual([1, 2, 3, 4, 5])
    expect(h.skippedLines).toBe(1)
    appendFileSync(log, '\nnot json\n{"k":"m","steps":[1],"trainLoss":[]}\n') // plus junk lines
    expect(readMetricsLog(log).skippedLines).toBe(3)
    const again = new RunRecorder(store, rec, () => {})
    again.rewind(5, statsOf(h))
    again.appendMetrics(batch([6, 7]))
    again.close('saved')
    h = readMetricsLog(log)
    expect(h.steps).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(h.skippedLines).toBe(3)
    expect(runMetricsOf(rec.runId, h, 10).evals).toEqual([
      { step: 0, testLoss: 0.9, trainLoss: 0.9, trainAccuracy: null, testAccuracy: 0.5 },
    ])
    expect(readMetricsLog(join(store.runDir(rec.runId), 'nope.ndjson')).steps).toEqual([])
  })

  it('a rewind drops what came after its step; downsampling takes bucket means', () => {
    const store = new RunStore(tempDir())
    const rec = store.create(runRecord())!
    const rr = new RunRecorder(store, rec, () => {})
    rr.appendMetrics(batch([1, 2, 3, 4], [{ step: 3, testLoss: 1 }]))
    rr.rewind(2, rr.stats)
    rr.appendMetrics(batch([3, 4, 5, 6]))
    const h = readMetricsLog(join(store.runDir(rec.runId), 'metrics.ndjson'))
    expect(h.steps).toEqual([1, 2, 3, 4, 5, 6])
    expect(h.evals).toEqual([])
    expect(h.layers.map((l) => l.step)).toEqual([1, 3])
    const m = runMetricsOf(rec.runId, h, 3)
    expect(m.steps).toEqual([2, 4, 6])
    expect(m.trainLoss[0]).toBeCloseTo((1 + 1 / 2) / 2)
    expect(m.gradNorms).toEqual([
      { step: 1, norms: [1] },
      { step: 3, norms: [3] },
    ])
  })
})

describe('checkpoints, trash and recovery', () => {
  it('thinning keeps step 0, the latest and at most `max`, spread over the run', () => {
    const steps = Array.from({ length: 200 }, (_, i) => i * 250)
    const drop = checkpointsToThin(steps, 40)
    const kept = steps.filter((s) => !drop.includes(s))
    expect(kept).toHaveLength(40)
    expect(kept[0]).toBe(0)
    expect(kept.at(-1)).toBe(199 * 250)
    expect(kept.filter((s) => s >= 25_000).length).toBeGreaterThan(10)
    expect(checkpointsToThin([0, 5], 1)).toEqual([])
  })

  it('a checkpoint counts once its JSON is written; a lone tensors file is ignored', () => {
    const store = new RunStore(tempDir())
    const rec = store.create(runRecord())!
    expect(store.checkpoints.write(rec.runId, 10, new Uint8Array(8), { format: 1 })).toBe(true)
    writeFileSync(store.checkpoints.paths(rec.runId, 20).tensors, 'half')
    expect(store.checkpoints.steps(rec.runId)).toEqual([10])
    store.checkpoints.delete(rec.runId, 10)
    expect(store.checkpoints.steps(rec.runId)).toEqual([])
  })

  it('trash and restore move the whole folder; unknown runs are not_found', () => {
    const dir = tempDir()
    const store = new RunStore(dir)
    const rec = store.create(runRecord({ status: 'saved' }))!
    store.move(rec.runId, true)
    expect(existsSync(join(dir, rec.runId))).toBe(false)
    expect(store.list(false)).toEqual([])
    expect(store.list(true).map((r) => [r.rec.runId, r.trashed])).toEqual([[rec.runId, true]])
    store.move(rec.runId, false)
    expect(store.list(false).map((r) => r.rec.name)).toEqual(['test run'])
    expect(() => store.read('rnothere-000000')).toThrow(/no run "rnothere-000000"/)
    expect(() => store.locate('../../main/etc')).toThrow(/no run/)
  })

  it('startup marks runs left live as interrupted with stats from their log, and clears temp files', async () => {
    const dir = tempDir()
    const store = new RunStore(dir)
    const rec = store.create(runRecord())!
    const rr = new RunRecorder(store, rec, () => {})
    rr.appendMetrics(batch([1, 2, 3], [{ step: 2, testLoss: 0.25 }]))
    writeFileSync(join(dir, rec.runId, '.tmp-run.json-1-abc'), '{')
    mkdirSync(join(dir, 'not-a-run'))
    const fresh = new RunStore(dir)
    await fresh.ready
    const [found] = fresh.list(false)
    expect(found.rec).toMatchObject({
      status: 'interrupted',
      stats: { steps: 3, lastTrainLoss: 1 / 3, lastTestLoss: 0.25, lastTestAccuracy: 0.5 },
    })
    expect(readdirSync(join(dir, rec.runId)).sort()).toEqual(['checkpoints', 'metrics.ndjson', 'run.json'])
  })

  it('an unusable directory: the store says why and refuses writes without throwing', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'file'), '')
    const store = new RunStore(join(dir, 'file', 'runs'))
    expect(store.storage()).toMatchObject({ writable: false, message: expect.stringContaining('ENOTDIR') })
    expect(store.create(runRecord())).toBeNull()
    expect(store.list(true)).toEqual([])
  })
})
