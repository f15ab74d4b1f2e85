// The studio's lab presets (lab-presets.ts) say what a user will see; these tests
// run them on the real host, seeded, so the captions stay true: LayerNorm after the ReLUs keeps far
// more units alive at a high learning rate, and dropout ends the overfitting run with a lower test
// loss. (The deep-sigmoid story is host-tested in lab-blocks.test.ts and driven in e2e.)
import { describe, expect, it } from 'vitest'
import { LAB_STORIES } from './lab-presets'
import { testHost } from '../../../host/test-helpers'

function preset(id: string) {
  const p = LAB_STORIES.flatMap((s) => s.presets).find((x) => x.id === id)
  if (!p) throw new Error(`no lab preset "${id}"`)
  return { ...p.spec, backend: 'cpu' as const }
}

/** Run a preset to its step budget; the last sampled layer statistics and the last evaluation. */
async function run(id: string) {
  const h = testHost()
  const spec = preset(id)
  const info = await h.ok('session.create', spec)
  const sessionId = info.state.sessionId
  await h.ok('session.step', { sessionId, steps: spec.train!.stop!.maxSteps! })
  const batches = h.of('train.metrics', sessionId)
  const layers = batches.flatMap((b) => b.layers).at(-1)!
  const evals = batches.flatMap((b) => b.evals)
  h.host.dispose()
  return { layers, lastEval: evals.at(-1)! }
}

const meanDead = (stats: { deadFraction: number | null }[]): number => {
  const hidden = stats.slice(0, -1).map((s) => s.deadFraction ?? 0)
  return hidden.reduce((a, b) => a + b, 0) / hidden.length
}

describe('lab presets on the host', () => {
  it('dead ReLUs at lr 0.1: most units die without a norm, few with LayerNorm after each ReLU', async () => {
    const plain = await run('dead-relu')
    const ln = await run('dead-relu-ln')
    expect(meanDead(plain.layers.stats)).toBeGreaterThan(0.4)
    expect(meanDead(ln.layers.stats)).toBeLessThan(meanDead(plain.layers.stats) / 2)
    // Both still learn something; which ends lower at lr 0.1 depends on the seed (0.07–0.7 over
    // seeds 1–8 either way), so the caption promises none and neither does this test.
    for (const r of [plain, ln]) expect(r.lastEval.testLoss).toBeLessThan(Math.log(2))
  }, 60_000)

  it('overfitting a small noisy set: train loss near zero, test loss high; dropout ends with a lower test loss', async () => {
    const plain = await run('overfit')
    const dropout = await run('overfit-dropout')
    expect(plain.lastEval.trainLoss).toBeLessThan(0.05)
    expect(plain.lastEval.testLoss).toBeGreaterThan(1)
    expect(dropout.lastEval.testLoss).toBeLessThan(plain.lastEval.testLoss)
  }, 60_000)
})
