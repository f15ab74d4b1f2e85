// Inspections in pieces, bounded by work and never by time: the matrix-product FLOPs of every
// uninterrupted piece stay within the host's chunkFlops (counted on the CPU backend's matmul), the
// 16×1024 model's pieces are planned within CHUNK_FLOPS, sliced results equal the same request
// answered in one piece, and training between pieces leaves a result at the step it began.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { nn, tensor, type Backend, type Tensor } from '../engine'
import { COPY_PIECE_BYTES, freeze, INSPECT_TURN_MS, prepareCopy, sparesOf, turn } from './inspect-pieces'
import type { RequestPayload, RequestResult } from '../shared/protocol'
import { gradcheckWork, graphWork } from './inspect-model'
import { histogramsWork } from './inspect-histograms'
import { networkWork } from './inspect-network'
import { boundaryWork, predictionsWork } from './inspect-studio'
import type { TrainingSession } from './session'
import { spec, testHost } from './test-helpers'
import { backwardFlops, CHUNK_FLOPS, evalChunkRows, FLOAT64_FLOP_COST, forwardFlopsPerRow, passRows, type Work } from './work-budget'

const SIZES = [2, 16, 16, 16, 2]
/** Step chunks of 8 rows (a batch of 8 is one chunk, so both hosts train identically), evaluation chunks of 24. */
const SMALL = 3 * forwardFlopsPerRow(SIZES) * 8

const hosts: ReturnType<typeof testHost>[] = []
afterEach(() => {
  for (const h of hosts.splice(0)) h.host.dispose()
  vi.restoreAllMocks()
})

const SPEC: RequestPayload<'session.create'> = spec({
  model: { hidden: [16, 16, 16], activation: 'tanh', loss: 'softmaxCrossEntropy' },
  data: { generator: 'moons', n: 400, noise: 0.1, seed: 3 },
  optimizer: { type: 'adam', lr: 0.01 },
  train: { batchSize: 8, evalEvery: 50, seed: 2 },
})

/** A host with this chunk budget and a session trained 3 steps (identical weights whatever the budget). */
async function trained(chunkFlops?: number, inspectTurnMs?: number) {
  const h = testHost({ ...(chunkFlops === undefined ? {} : { chunkFlops }), ...(inspectTurnMs === undefined ? {} : { inspectTurnMs }) })
  hosts.push(h)
  await h.ok('session.create', SPEC)
  await h.ok('session.step', { sessionId: 's1', steps: 3 })
  const session: TrainingSession = h.host['sessions'].get('s1')!
  return { ...h, session }
}

/** Matrix-product FLOPs on `backend` (the CPU's) since the last reset. */
function countMatmul(backend: Backend) {
  const counter = { flops: 0 }
  const matmul = backend.matmul.bind(backend)
  vi.spyOn(backend, 'matmul').mockImplementation((a, b, args) => {
    const k = args.transA ? args.aShape.at(-2)! : args.aShape.at(-1)!
    counter.flops += 2 * args.outShape.reduce((p, d) => p * d, 1) * k
    return matmul(a, b, args)
  })
  return counter
}

/** Run `work` on `session` to the end; the matmul FLOPs of each piece and the result. */
function pieces<T>(session: TrainingSession, work: Work<T>): { flops: number[]; value: T } {
  const counter = countMatmul(session.trainer.model.layers[0].weight.backend)
  const flops: number[] = []
  for (;;) {
    counter.flops = 0
    const r = work.next()
    flops.push(counter.flops)
    if (r.done) {
      vi.restoreAllMocks()
      return { flops, value: r.value }
    }
  }
}

const KINDS: [string, (s: TrainingSession) => Work<unknown>][] = [
  ['boundary', (s) => boundaryWork(s, 64)],
  ['predictions', (s) => predictionsWork(s, 'test', 1000)],
  ['histograms', (s) => histogramsWork(s, 30, 'auto')],
  ['network', (s) => networkWork(s, 100)],
  ['graph', (s) => graphWork(s, 4)],
  ['gradcheck', (s) => gradcheckWork(s, 'layers.1.weight', 20)],
]

describe('inspections in pieces', () => {
  it.each(KINDS)(
    '%s: no piece holds more matrix-product FLOPs than chunkFlops, and the work is split',
    async (_, make) => {
      const { session } = await trained(SMALL)
      const { flops } = pieces(session, make(session))
      expect(flops.length).toBeGreaterThan(1)
      for (const f of flops) expect(f).toBeLessThanOrEqual(SMALL)
    },
    60_000,
  )

  it('sliced requests answer exactly what one piece answers (boundary, predictions, histograms, graph)', async () => {
    const sliced = await trained(SMALL)
    const whole = await trained()
    const ask = async <K extends 'session.boundary' | 'session.predictions' | 'session.histograms' | 'session.graph'>(
      kind: K,
      payload: RequestPayload<K>,
    ): Promise<[RequestResult<K>, RequestResult<K>]> => [await sliced.ok(kind, payload), await whole.ok(kind, payload)]
    const [b1, b2] = await ask('session.boundary', { sessionId: 's1', resolution: 40 })
    expect(b1).toEqual(b2)
    const [p1, p2] = await ask('session.predictions', { sessionId: 's1', split: 'train', max: 1000 })
    expect(p1).toEqual(p2)
    const [h1, h2] = await ask('session.histograms', { sessionId: 's1', bins: 20, range: 'auto' })
    expect(h1).toEqual(h2)
    const [g1, g2] = await ask('session.graph', { sessionId: 's1', batchSize: 4 })
    expect(g1).toEqual(g2)
  }, 60_000)

  it('network: the same rows in pieces give the same edges and neurons as one piece', async () => {
    // Step chunks of 256 rows: the network's batch is whole, and its backward still runs node by node.
    const sliced = await trained(3 * forwardFlopsPerRow(SIZES) * 256)
    const whole = await trained()
    const payload = { sessionId: 's1', maxEdgesPerLayer: 100 }
    expect(pieces(sliced.session, networkWork(sliced.session, 100)).flops.length).toBeGreaterThan(3)
    expect(await sliced.ok('session.network', payload)).toEqual(await whole.ok('session.network', payload))
  }, 60_000)

  it('gradcheck: the loss in chunks of rows (a weighted sum of chunk means) agrees with one piece', async () => {
    const sliced = await trained(SMALL)
    const whole = await trained()
    const payload = { sessionId: 's1', param: 'layers.1.weight', maxElements: 20 }
    const a = await sliced.ok('session.gradcheck', payload)
    const b = await whole.ok('session.gradcheck', payload)
    expect(a.checked).toBe(b.checked)
    a.samples.forEach((s, i) => {
      expect(s.index).toBe(b.samples[i].index)
      expect(s.analytic).toBeCloseTo(b.samples[i].analytic, 10)
      expect(s.numeric).toBeCloseTo(b.samples[i].numeric, 6)
    })
    expect(a.maxRelError).toBeLessThan(1e-5)
  }, 60_000)

  it.each(KINDS)(
    '%s: training between pieces leaves the result at the step it began',
    async (_, make) => {
      const { session } = await trained(SMALL)
      const before = pieces(session, make(session)).value
      const work = make(session)
      work.next() // the first piece freezes what the work reads
      session.trainer.model.layers[0].weight.assign(tensor(new Float32Array(2 * 16).fill(0.5), { shape: [2, 16] }))
      let r = work.next()
      while (!r.done) r = work.next()
      expect(r.value).toEqual(before)
    },
    60_000,
  )
})

describe('the copy an inspection reads', () => {
  const wide = () => new nn.MLP([2, 1024, 1024, 1024, 1024, 2], { seed: 4 })
  const drainCount = (work: Work<void>): number => {
    let yields = 0
    while (!work.next().done) yields++
    return yields
  }

  it('is allocated a few layers per piece, then frozen in one copy of the values of one moment', () => {
    const live = wide()
    // Layers of ~12 KiB, 4 MiB, 4 MiB, 4 MiB and 8 KiB: two pieces of at most COPY_PIECE_BYTES and one layer more.
    const prep = prepareCopy(live, 'float32')
    expect(prep.next().done).toBe(false)
    // Training moves the weights between the pieces: the freeze still reads them as they are then.
    live.layers[1].weight.assign(tensor(new Float32Array(1024 * 1024).fill(0.25), { shape: [1024, 1024] }))
    expect(prep.next().done).toBe(true)
    expect(sparesOf(live)).toEqual(['float32'])
    live.layers[3].weight.assign(tensor(new Float32Array(1024 * 1024).fill(-0.5), { shape: [1024, 1024] }))
    const frozen = freeze(live)
    expect(sparesOf(live)).toEqual([]) // taken by this freeze
    // Compared as bytes (a deep equality over 4M elements takes seconds).
    const bytes = (t: Tensor) => {
      const a = t.dataSync() as Float32Array
      return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
    }
    frozen.model.namedParameters().forEach(([name, p], i) => expect(bytes(p).equals(bytes(live.namedParameters()[i][1])), name).toBe(true))
    expect(frozen.model.layers[3].weight.dataSync()[7]).toBe(-0.5)
    expect(frozen.model.layers[0]).not.toBe(live.layers[0])
    frozen.release()
    expect(sparesOf(live)).toEqual(['float32'])
    expect(drainCount(prepareCopy(live, 'float32'))).toBe(0) // the released copy is reused
    expect(COPY_PIECE_BYTES).toBeLessThan(2 * 4 * 1024 * 1024 + 1)
  })

  it("in float64 (gradcheck) is not kept after the request, the polled panels' copy is", async () => {
    const { ok, session } = await trained()
    const live = session.trainer.model
    await ok('session.gradcheck', { sessionId: 's1', param: 'layers.1.weight', maxElements: 5 })
    expect(sparesOf(live)).toEqual([])
    await ok('session.network', { sessionId: 's1', maxEdgesPerLayer: 10 })
    expect(sparesOf(live)).toEqual(['float32'])
    const failed = await trained()
    expect((await failed.fail('session.gradcheck', { sessionId: 's1', param: 'layers.9.weight', maxElements: 5 })).code).toBe('not_found')
    expect(sparesOf(failed.session.trainer.model)).toEqual([])
  }, 60_000)
})

describe('a request beside an inspection in pieces', () => {
  it('is answered between its pieces, before the inspection ends (one piece per turn)', async () => {
    const { send } = await trained(SMALL, 0)
    const order: string[] = []
    const boundary = send('session.boundary', { sessionId: 's1', resolution: 64 }).then((r) => order.push(`boundary ${r.ok}`))
    const pause = send('session.pause', { sessionId: 's1' }).then((r) => order.push(`pause ${r.ok}`))
    await Promise.all([boundary, pause])
    expect(order).toEqual(['pause true', 'boundary true'])
  }, 60_000)
})

describe('pieces per turn', () => {
  /** Work of `n` pieces, each advancing the fake clock by `ms`; the number of turns it took. */
  function turns(n: number, ms: number, turnMs: number): number {
    let now = 0
    function* work(): Work<number> {
      for (let i = 1; i < n; i++) {
        now += ms
        yield
      }
      return n
    }
    const w = work()
    let k = 1
    while (!turn(w, turnMs, () => now).done) k++
    return k
  }

  it('tiny pieces run back to back in one turn; a turn ends once turnMs has passed; 0 is one piece a turn', () => {
    expect(turns(200, 0.01, INSPECT_TURN_MS)).toBe(1)
    // Pieces of 3 ms against a 4 ms turn: two a turn (the second starts before 4 ms have passed).
    expect(turns(10, 3, 4)).toBe(5)
    expect(turns(10, 0, 0)).toBe(10)
  })
})

describe('the 16×1024 model, planned within CHUNK_FLOPS', () => {
  const big = [2, ...Array<number>(16).fill(1024), 2]
  it('forward chunks (boundary, predictions) and forward + backward chunks (network, graph, gradcheck) fit a piece', () => {
    const fwd = forwardFlopsPerRow(big)
    expect(fwd).toBeGreaterThan(3e7) // ~34 MFLOPs a row: a 64 × 64 grid in one go was ~137 GFLOPs
    expect(evalChunkRows(big, CHUNK_FLOPS) * fwd).toBeLessThanOrEqual(CHUNK_FLOPS)
    expect(passRows(big, CHUNK_FLOPS) * 3 * fwd).toBeLessThanOrEqual(CHUNK_FLOPS)
    // gradcheck's float64 pieces hold fewer FLOPs: one row per chunk from layer 0 on.
    const f64 = CHUNK_FLOPS / FLOAT64_FLOP_COST
    expect(passRows(big, f64)).toBe(1)
    expect(3 * fwd).toBeLessThanOrEqual(f64)
  })

  it('the inspections left in one piece (neuron maps, saliency) hold at most CHUNK_FLOPS at their smallest', () => {
    // The widest input the studio trains (MNIST-size images) in front of the 16×1024 stack.
    const images = [784, ...Array<number>(16).fill(1024), 10]
    for (const sizes of [big, images]) {
      const fwd = forwardFlopsPerRow(sizes)
      expect(16 * fwd).toBeLessThanOrEqual(CHUNK_FLOPS) // a 4 × 4 neuron-map grid, the coarsest drawn
      // Saliency at its smallest: 2 examples, each two backward passes (≈ 6 forwards), and 2 rows ranked.
      expect((2 * 6 + 2) * fwd).toBeLessThanOrEqual(CHUNK_FLOPS)
    }
  })

  it("one 1024 × 1024 layer's backward for a piece's rows is one node within the budget", () => {
    const rows = passRows(big, CHUNK_FLOPS)
    const w = tensor(new Float32Array(1024 * 1024).fill(0.01), { shape: [1024, 1024], requiresGrad: true })
    const x = tensor(new Float32Array(rows * 1024).fill(0.1), { shape: [rows, 1024] })
    const out: Tensor = x.matmul(w)
    expect(out._op).toBe('matmul')
    const cost = backwardFlops(out)
    expect(cost).toBeGreaterThan(4 * rows * 1024 * 1024) // the two products and the passes over 1M weights
    expect(cost).toBeLessThanOrEqual(CHUNK_FLOPS)
  })
})
