// The compare-live store against the real engine host, in-process, with a data directory: the
// deep-sigmoid preset's no-norm, BatchNorm and residual + BatchNorm variants trained in lockstep
// (only the plain one raises the vanishing alarm; the others end lower), an impossible variant
// refused before anything starts, saving as tagged runs, and leaving without saving leaves nothing.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EngineHost } from '../../../../host/host'
import { createEngineClient } from '../../../engine/engine-client'
import { getEngineClient, setEngineClient } from '../../../engine'
import { Listeners, type Transport } from '../../../engine/transport'
import type { CreatePayload } from '../../../stores/session-form'
import { DEEP_STEPS, LAB_PRESETS } from '../lab-presets'
import { ROUND_STEPS, useCompareStore } from './compare'

let host: EngineHost
let dataDir: string
const asked: string[] = []

function inProcess(): Transport {
  const events = new Listeners<unknown>()
  host = new EngineHost((msg) => events.emit(msg), { dataDir })
  return {
    send: (m) => (asked.push(m.kind), host.handle(m)),
    onEvent: (l) => events.add(l),
    status: () => ({ state: 'open' }),
    onStatus: () => () => {},
    close: () => {},
  }
}

beforeEach(() => {
  asked.length = 0
  dataDir = mkdtempSync(join(tmpdir(), 'bps-compare-'))
  setEngineClient(createEngineClient(inProcess()))
  setActivePinia(createPinia())
})
afterEach(() => {
  host.dispose()
  setEngineClient(null)
  rmSync(dataDir, { recursive: true, force: true })
})

const deep: CreatePayload = { ...LAB_PRESETS.find((p) => p.id === 'deep-sigmoid')!.spec, backend: 'cpu' }
const runDirs = () => readdirSync(dataDir).filter((f) => /^r[0-9a-z-]+$/.test(f))
const sessions = () => [...host['registry'].table.keys()]

describe('compare store (real host)', () => {
  it('deep sigmoid: the plain variant alone raises the vanishing alarm; BatchNorm and residual end lower, in lockstep', async () => {
    const compare = useCompareStore()
    compare.choose('blocks', deep)
    expect(compare.values).toEqual(['none', 'batch', 'residual+batch'])
    expect(await compare.start(deep, 2)).toBe(true)
    expect(compare.views.map((v) => v.label)).toEqual(['no norm', 'BatchNorm', 'residual + BatchNorm'])
    expect(runDirs()).toEqual([]) // variants are not runs until saved

    await compare.play()
    const views = compare.views
    // Every variant ran the preset's whole budget, then stopped by itself, and was marked so.
    expect(views.map((v) => v.step)).toEqual([DEEP_STEPS, DEEP_STEPS, DEEP_STEPS])
    for (const v of views) expect(v.stopped).toEqual(expect.any(String))
    expect(compare.maxStep).toBe(DEEP_STEPS)
    const [plain, bn, res] = views
    expect(plain!.alarms.map((a) => a.kind)).toContain('vanishing')
    expect(plain!.alarms.find((a) => a.kind === 'vanishing')!.step).toBeLessThan(DEEP_STEPS)
    expect(bn!.alarms.filter((a) => a.kind === 'vanishing')).toEqual([])
    expect(res!.alarms.filter((a) => a.kind === 'vanishing')).toEqual([])
    expect(bn!.lastLoss).toBeLessThan(plain!.lastLoss!)
    expect(res!.lastLoss).toBeLessThan(plain!.lastLoss!)
    // Lockstep: every session.step asked for one round, and the rounds went to all variants together.
    const steps = asked.filter((k) => k === 'session.step').length
    expect(steps).toBe(3 * (DEEP_STEPS / ROUND_STEPS + 1))
  }, 120_000)

  it('refuses an impossible variant with the reason before any session is created', async () => {
    const compare = useCompareStore()
    const tiny: CreatePayload = { ...deep, train: { ...deep.train, batchSize: 1 } }
    compare.choose('norm', tiny)
    expect(await compare.start(tiny, 2)).toBe(false)
    expect(compare.problems).toEqual([
      expect.stringMatching(/^BatchNorm: BatchNorm on hidden layer 1 needs batches of at least 2 rows.*\(and 11 more like it\)$/),
    ])
    expect(asked).not.toContain('session.create')
    expect(compare.active).toBe(false)
  })

  it('save as runs: one run per variant, named by it, under one tag; leaving then closes them', async () => {
    const compare = useCompareStore()
    compare.choose('lr', deep)
    expect(await compare.start(deep, 2)).toBe(true)
    await compare.step(5)
    const ids = await compare.save()
    expect(ids).toHaveLength(3)
    const { runs } = await getEngineClient().request('runs.list', {})
    const tag = compare.savedTag!
    expect(tag).toMatch(/^compare \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    expect(runs.map((r) => [r.name, r.tags, r.steps]).sort()).toEqual([
      ['learning rate: lr 0.001', [tag], 5],
      ['learning rate: lr 0.01', [tag], 5],
      ['learning rate: lr 0.1', [tag], 5],
    ])
    await compare.leave()
    expect(sessions()).toEqual([])
    const after = await getEngineClient().request('runs.list', {})
    expect(after.runs.map((r) => r.status)).toEqual(['saved', 'saved', 'saved'])
  })

  it('leaving without saving disposes every variant and leaves no run on disk; reset starts them again', async () => {
    const compare = useCompareStore()
    compare.choose('activation', deep)
    expect(await compare.start(deep, 2)).toBe(true)
    await compare.step(3)
    expect(compare.views.map((v) => v.step)).toEqual([3, 3, 3])
    await compare.reset()
    expect(compare.views.map((v) => [v.step, v.lastLoss])).toEqual([
      [0, null],
      [0, null],
      [0, null],
    ])
    expect(sessions()).toHaveLength(3)
    await compare.leave()
    expect(sessions()).toEqual([])
    expect(runDirs()).toEqual([])
    expect(readdirSync(join(dataDir, '.trash'))).toEqual([])
  })
})
