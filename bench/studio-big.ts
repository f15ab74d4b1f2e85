// The studio's loop against the bare engine loop on the big model of issue 14: 2-(1024×16)-2 ReLU,
// Adam, batch 32 (15.7M parameters), on the moons generator. The studio session runs with the
// default settings (evaluation every 50 steps, layer statistics, guards, metrics streamed as JSON);
// the bare loop is nn.MLP + Adam over the same kind of batches. A step takes from ~0.4 s to
// seconds on a busy machine, so each round times a run of whole steps of each (session.step
// answers when they are done) rather than counting steps in a time window; rounds alternate, so
// load from other processes falls on both alike, and each figure is the median over the rounds.
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
  stepsPerRound: number
}

export async function benchStudioBig(budgetMs: number): Promise<StudioBigResult> {
  const studio = await studioSession()
  const bare = bareLoop()
  bare.run(1) // warm-up (JIT, kernels)
  await studio.steps(1) // and the studio's step-0 evaluation
  // Steps per round from the bare loop's speed: about budgetMs over 3 rounds of both.
  const t = performance.now()
  bare.run(1)
  const perRound = Math.max(1, Math.min(20, Math.round(budgetMs / 6 / (performance.now() - t))))
  const rounds = 3
  const s: number[] = []
  const b: number[] = []
  for (let r = 0; r < rounds; r++) {
    s.push(await studio.steps(perRound))
    b.push(bare.run(perRound))
  }
  studio.finish()
  return { studio: median(s), bare: median(b), ratio: median(s) / median(b), rounds, stepsPerRound: perRound }
}

async function studioSession(): Promise<{ steps(n: number): Promise<number>; finish(): void }> {
  const host = new EngineHost((msg) => void JSON.stringify(msg)) // what postMessage / the WebSocket would cost
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
  return {
    /** Steps/s of a run of `n` steps (session.step answers when they are done). */
    async steps(n) {
      const t0 = performance.now()
      await ok('session.step', { sessionId, steps: n })
      return (n * 1000) / (performance.now() - t0)
    },
    finish: () => host.dispose(),
  }
}

function bareLoop(): { run(n: number): number } {
  const r = rng(3)
  const x = tensor(
    Float32Array.from({ length: BATCH * 2 }, () => r() * 2 - 1),
    { shape: [BATCH, 2] },
  )
  const y = Int32Array.from({ length: BATCH }, () => (r() < 0.5 ? 0 : 1))
  const model = new nn.MLP([2, ...BIG_HIDDEN, 2], { activation: 'relu', seed: 1 })
  const opt = new optim.Adam(model.namedParameters(), { lr: 0.001 })
  return {
    /** Steps/s of `n` steps. */
    run(n) {
      const t0 = performance.now()
      for (let i = 0; i < n; i++) {
        opt.zeroGrad()
        softmaxCrossEntropy(model.forward(x), y).backward()
        opt.step()
      }
      return (n * 1000) / (performance.now() - t0)
    },
  }
}

export function printStudioBig(r: StudioBigResult, fmt: (n: number) => string): void {
  console.log(
    `\nStudio loop vs bare engine loop, 2-(1024×16)-2 relu, batch 32, Adam, default settings (steps/s, medians of ${r.rounds} interleaved rounds of ${r.stepsPerRound} steps)\n` +
      `  bare loop: ${fmt(r.bare)}   studio session: ${fmt(r.studio)}   studio/bare: ${r.ratio.toFixed(2)}×`,
  )
}
