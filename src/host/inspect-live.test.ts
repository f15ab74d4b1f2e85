// The inspection requests are read-only: a session that is running while graphs, network
// snapshots, neuron maps and gradient checks are served trains exactly as an undisturbed one.
import { afterEach, describe, expect, it } from 'vitest'
import { spec, testHost } from './test-helpers'
import { turns } from './test-wait'

const hosts: ReturnType<typeof testHost>[] = []
/** sliceMs 0: one step per turn of the loop, so the rounds below interleave with training at any speed. */
function make() {
  const h = testHost({ sliceMs: 0 })
  hosts.push(h)
  return h
}
afterEach(() => {
  for (const h of hosts.splice(0)) h.host.dispose()
})

const STEPS = 600
const run = spec({
  model: { hidden: [12, 8] },
  data: { generator: 'spiral', n: 400, seed: 2 },
  optimizer: { type: 'adam', lr: 0.01 },
  train: { batchSize: 32, evalEvery: 100, seed: 3 },
})

async function trainedWeights(h: ReturnType<typeof testHost>): Promise<number[][]> {
  const s = h.host['sessions'].get('s1')!
  return s.trainer.model.parameters().map((p) => Array.from(p.dataSync()))
}

describe('inspection while training', () => {
  it('a running session keeps training identically while every inspection is served', { timeout: 30_000 }, async () => {
    const quiet = make()
    await quiet.ok('session.create', run)
    await quiet.ok('session.step', { sessionId: 's1', steps: STEPS })

    const busy = make()
    await busy.ok('session.create', run)
    const done = busy.ok('session.step', { sessionId: 's1', steps: STEPS })
    const stepsSeen: number[] = []
    let finished = false
    void done.then(() => (finished = true))
    let rounds = 0
    while (!finished) {
      const [g, n] = await Promise.all([
        busy.ok('session.graph', { sessionId: 's1', batchSize: 8 }),
        busy.ok('session.network', { sessionId: 's1' }),
        busy.ok('session.gradcheck', { sessionId: 's1', param: 'layers.1.weight', maxElements: 20 }),
        busy.ok('session.neuronMap', { sessionId: 's1', layer: 1, neuron: 3, resolution: 16 }),
      ])
      stepsSeen.push(g.step, n.step)
      rounds++
      await turns(10) // about ten steps between rounds (the host's loop takes one piece per turn)
    }
    const end = await done
    expect(end.step).toBe(STEPS)
    // The requests really were served mid-run, between slices.
    expect(rounds).toBeGreaterThan(3)
    expect(stepsSeen.some((s) => s > 0 && s < STEPS)).toBe(true)

    const losses = (h: ReturnType<typeof testHost>) => h.of('train.metrics', 's1').flatMap((b) => b.trainLoss)
    expect(losses(busy)).toHaveLength(STEPS)
    expect(losses(busy)).toEqual(losses(quiet))
    const evals = (h: ReturnType<typeof testHost>) => h.of('train.metrics', 's1').flatMap((b) => b.evals)
    expect(evals(busy)).toEqual(evals(quiet))
    expect(await trainedWeights(busy)).toEqual(await trainedWeights(quiet))
  })

  it('leaves the live gradients and weights of a paused session as they were', async () => {
    const h = make()
    await h.ok('session.create', run)
    await h.ok('session.step', { sessionId: 's1', steps: 7 })
    const s = h.host['sessions'].get('s1')!
    const params = s.trainer.model.parameters()
    const grads = params.map((p) => p.grad)
    const gradValues = grads.map((g) => Array.from(g!.dataSync()))
    const weights = await trainedWeights(h)
    await h.ok('session.graph', { sessionId: 's1' })
    await h.ok('session.network', { sessionId: 's1' })
    await h.ok('session.gradcheck', { sessionId: 's1', param: 'layers.0.bias' })
    await h.ok('session.neuronMap', { sessionId: 's1', layer: 2, neuron: 0 })
    params.forEach((p, i) => {
      expect(p.grad).toBe(grads[i])
      expect(Array.from(p.grad!.dataSync())).toEqual(gradValues[i])
    })
    expect(await trainedWeights(h)).toEqual(weights)
    expect(s.status).toBe('paused')
    expect(s.step).toBe(7)
  })
})
