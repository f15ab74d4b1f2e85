// The studio's loop against the bare engine loop on the big model of issue 14: 2-(1024×16)-2 ReLU,
// Adam, batch 32 (15.7M parameters), on the moons generator. The studio session runs with the
// default settings (evaluation every 50 steps, layer statistics, guards, metrics streamed as JSON);
// the bare loop is nn.MLP + Adam over the same kind of batches. Windows alternate, so load from
// other processes falls on both alike; each figure is the median over the rounds.
// `npm run bench -- --studio-only` runs this and the MNIST-size comparison alone.
import { performance } from 'node:perf_hooks'
import { nn, optim, softmaxCrossEntropy, tensor } from '../src/engine/index.js'
import { EngineHost } from '../src/host/host.js'
import { median, rng } from './common.js'

export const BIG_HIDDEN: number[] = Array(16).fill(1024)
const BATCH = 32

export interface StudioBigResult {
  /** Steps/s of the studio session, of the bare loop, and studio/bare (medians over rounds). */
  studio: number
  bare: number
  ratio: number
  rounds: number
}

export async function benchStudioBig(budgetMs: number): Promise<StudioBigResult> {
  const studio = await studioSession()
  const bare = bareLoop()
  const rounds = 3
  const slot = Math.max(3000, budgetMs / rounds / 2)
  bare.run(1500) // warm-up
  await studio.window(1500)
  const s: number[] = []
  const b: number[] = []
  for (let r = 0; r < rounds; r++) {
    s.push(await studio.window(slot))
    b.push(bare.run(slot))
  }
  studio.finish()
  return { studio: median(s), bare: median(b), ratio: median(s) / median(b), rounds }
}

async function studioSession(): Promise<{ window(ms: number): Promise<number>; finish(): void }> {
  let lastStep = 0
  let lastAt = 0
  const host = new EngineHost((msg) => {
    JSON.stringify(msg) // what the worker's postMessage / the WebSocket would cost
    if (msg.event === 'train.metrics') {
      const steps = (msg.payload as { steps: number[] }).steps
      if (steps.length) {
        lastStep = steps[steps.length - 1]
        lastAt = performance.now()
      }
    }
  })
  let id = 1
  const ok = async (kind: string, payload: unknown): Promise<Record<string, unknown>> => {
    const r = await host.handle({ v: 1, id: id++, kind, payload })
    if (!r.ok) throw new Error(`bench studio-big: ${kind} failed: ${r.error.code}: ${r.error.message}`)
    return r.result as Record<string, unknown>
  }
  const info = await ok('session.create', {
    model: { hidden: BIG_HIDDEN, activation: 'relu', loss: 'softmaxCrossEntropy' },
    data: { generator: 'moons', n: 2000, noise: 0.1, seed: 1 },
    optimizer: { type: 'adam', lr: 0.001 },
    backend: 'cpu',
  })
  const sessionId = (info.state as { sessionId: string }).sessionId
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
  return {
    async window(ms) {
      await ok('session.start', { sessionId })
      await sleep(300)
      const [s0, t0] = [lastStep, lastAt]
      await sleep(ms)
      // Steps and their times from the metrics stream, as the page sees them.
      const rate = ((lastStep - s0) * 1000) / (lastAt - t0)
      await ok('session.pause', { sessionId })
      return rate
    },
    finish: () => host.dispose(),
  }
}

function bareLoop(): { run(ms: number): number } {
  const r = rng(3)
  const x = tensor(
    Float32Array.from({ length: BATCH * 2 }, () => r() * 2 - 1),
    { shape: [BATCH, 2] },
  )
  const y = Int32Array.from({ length: BATCH }, () => (r() < 0.5 ? 0 : 1))
  const model = new nn.MLP([2, ...BIG_HIDDEN, 2], { activation: 'relu', seed: 1 })
  const opt = new optim.Adam(model.namedParameters(), { lr: 0.001 })
  return {
    run(ms) {
      let steps = 0
      const t0 = performance.now()
      while (performance.now() - t0 < ms) {
        opt.zeroGrad()
        softmaxCrossEntropy(model.forward(x), y).backward()
        opt.step()
        steps++
      }
      return (steps * 1000) / (performance.now() - t0)
    },
  }
}
