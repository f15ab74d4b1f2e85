// The studio's own training loop against the bare engine loop on the MNIST-size net
// (784-256-128-10 relu, batch 128, SGD): an EngineHost session fed a synthetic IDX upload, trained
// through the protocol with metrics streaming (every event serialised to JSON, as the worker's
// postMessage/WebSocket would), against nn.MLP + SGD stepping over the same batches. Also prices
// the trainer's per-step NaN guard pieces (weight snapshot, non-finite scan) on the bare loop.
import { performance } from 'node:perf_hooks'
import { nn, optim, softmaxCrossEntropy, tensor, type Tensor, type TypedArray } from '../src/engine/index.js'
import { EngineHost } from '../src/host/host.js'
import { allFinite } from '../src/host/scan.js'
import { median, rng } from './common.js'

export interface StudioResult {
  /** Steps/s of the studio session evaluating every 50 steps (median over windows), of the same
   *  session with evaluations off (the loop's own overhead), of the bare loop, and the ratios. */
  studio: number
  studioNoEval: number
  bare: number
  ratio: number
  ratioNoEval: number
  /** The bare loop plus the trainer's weight snapshot per step, and plus its non-finite scan. */
  bareSnapshot: number
  bareSnapshotScan: number
  eventsPerSecond: number
  /** Bytes of JSON the studio's events came to per second. */
  eventBytesPerSecond: number
}

/** The live values of a CPU tensor, as the trainer reads them (metrics.ts `view`). */
const view = (t: Tensor): TypedArray => t.backend.readSync!(t.storage)

const ROWS = 2560
const SIDE = 28
const CLASSES = 10
const BATCH = 128

/** Seeded IDX files (ubyte images [ROWS,28,28], labels [ROWS]) in the format MNIST ships. */
function idxFiles(): { images: Uint8Array; labels: Uint8Array } {
  const r = rng(7)
  const images = new Uint8Array(16 + ROWS * SIDE * SIDE)
  new DataView(images.buffer).setUint32(0, 0x0803)
  new DataView(images.buffer).setUint32(4, ROWS)
  new DataView(images.buffer).setUint32(8, SIDE)
  new DataView(images.buffer).setUint32(12, SIDE)
  for (let i = 16; i < images.length; i++) images[i] = Math.floor(r() * 256)
  const labels = new Uint8Array(8 + ROWS)
  new DataView(labels.buffer).setUint32(0, 0x0801)
  new DataView(labels.buffer).setUint32(4, ROWS)
  for (let i = 8; i < labels.length; i++) labels[i] = Math.floor(r() * CLASSES)
  return { images, labels }
}

export async function benchStudio(budgetMs: number): Promise<StudioResult> {
  const files = idxFiles()
  const studio = await studioSession(files, 'a', EVAL_EVERY)
  const quiet = await studioSession(files, 'b', 1e5)
  const bare = bareLoop(files)
  // Rounds alternate the studio and every bare variant, so load from other processes on a shared
  // machine falls on all of them alike; each figure is the median over the rounds.
  const rounds = 5
  const slot = budgetMs / rounds / 5
  bare.run(0, Math.min(800, slot)) // warm-up (JIT, kernel load)
  await studio.window(Math.min(800, slot))
  await quiet.window(Math.min(800, slot))
  const samples: number[][] = [[], [], [], [], []]
  for (let r = 0; r < rounds; r++) {
    samples[0].push(await studio.window(slot))
    samples[1].push(await quiet.window(slot))
    for (const mode of [0, 1, 2] as const) samples[mode + 2].push(bare.run(mode, slot))
  }
  const events = studio.finish()
  quiet.finish()
  const [s, q, b0, b1, b2] = samples.map(median)
  return { studio: s, studioNoEval: q, bare: b0, ratio: s / b0, ratioNoEval: q / b0, bareSnapshot: b1, bareSnapshotScan: b2, ...events }
}

interface StudioSession {
  /** Starts the session, lets it warm up briefly, measures steps/s over `ms`, pauses it. */
  window(ms: number): Promise<number>
  finish(): Pick<StudioResult, 'eventsPerSecond' | 'eventBytesPerSecond'>
}

/** The studio session's evaluation interval (each split on a fixed sample sized to ≤5% of the training between). */
const EVAL_EVERY = 50

async function studioSession(files: { images: Uint8Array; labels: Uint8Array }, tag: string, evalEvery: number): Promise<StudioSession> {
  let lastStep = 0
  let lastAt = 0
  let events = 0
  let bytes = 0
  let measuredMs = 0
  let measuredEvents = 0
  let measuredBytes = 0
  const host = new EngineHost((msg) => {
    bytes += JSON.stringify(msg).length
    events++
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
    if (!r.ok) throw new Error(`bench studio: ${kind} failed: ${r.error.code}: ${r.error.message}`)
    return r.result as Record<string, unknown>
  }
  const upload = async (what: string, name: string, b: Uint8Array): Promise<string> => {
    const chunk = 480_000
    const total = Math.ceil(b.length / chunk)
    let last: Record<string, unknown> = {}
    for (let i = 0; i < total; i++) {
      const chunkBase64 = Buffer.from(b.subarray(i * chunk, (i + 1) * chunk)).toString('base64')
      last = await ok('files.upload', { uploadId: `ubench${what}${tag}`, name, index: i, total, bytes: b.length, chunkBase64 })
    }
    return (last.file as { fileId: string }).fileId
  }
  const imagesFileId = await upload('images', 'images-idx3-ubyte', files.images)
  const labelsFileId = await upload('labels', 'labels-idx1-ubyte', files.labels)
  const info = await ok('session.create', {
    model: { hidden: [256, 128], activation: 'relu', loss: 'softmaxCrossEntropy' },
    data: { source: 'idx', imagesFileId, labelsFileId, limit: ROWS, testRatio: 0.1, seed: 1 },
    optimizer: { type: 'sgd', lr: 0.01 },
    train: { batchSize: BATCH, evalEvery, seed: 1 },
    backend: 'cpu',
  })
  const sessionId = (info.state as { sessionId: string }).sessionId
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
  return {
    async window(ms) {
      await ok('session.start', { sessionId })
      await sleep(200)
      const from = { step: lastStep, at: lastAt }
      const e0 = events
      const b0 = bytes
      await sleep(ms)
      const rate = ((lastStep - from.step) * 1000) / (lastAt - from.at)
      measuredMs += ms
      measuredEvents += events - e0
      measuredBytes += bytes - b0
      await ok('session.pause', { sessionId })
      return rate
    },
    finish() {
      host.dispose()
      return { eventsPerSecond: (measuredEvents * 1000) / measuredMs, eventBytesPerSecond: (measuredBytes * 1000) / measuredMs }
    },
  }
}

function bareLoop(files: { images: Uint8Array; labels: Uint8Array }): { run(mode: Mode, ms: number): number } {
  const f = SIDE * SIDE
  const nBatches = Math.floor((ROWS * 0.9) / BATCH)
  const batches: { x: Tensor; y: Int32Array }[] = []
  for (let bt = 0; bt < nBatches; bt++) {
    const x = new Float32Array(BATCH * f)
    for (let i = 0; i < x.length; i++) x[i] = files.images[16 + bt * BATCH * f + i] / 255
    const y = Int32Array.from(files.labels.subarray(8 + bt * BATCH, 8 + (bt + 1) * BATCH))
    batches.push({ x: tensor(x, { shape: [BATCH, f] }), y })
  }
  const model = new nn.MLP([f, 256, 128, CLASSES], { activation: 'relu', seed: 1 })
  const opt = new optim.SGD(model.namedParameters(), { lr: 0.01 })
  const params = opt.params
  const snaps = params.map((p) => new Float32Array(p.size))
  let step = 0
  return {
    run(mode, ms) {
      let steps = 0
      const t0 = performance.now()
      while (performance.now() - t0 < ms) {
        const b = batches[step++ % nBatches]
        opt.zeroGrad()
        const loss = softmaxCrossEntropy(model.forward(b.x), b.y)
        loss.backward()
        if (mode >= 1) params.forEach((p, i) => snaps[i].set(view(p)))
        opt.step()
        // The trainer's overflow check, as written there (x·0 summed per parameter).
        if (mode === 2) for (const p of params) if (!allFinite(view(p))) throw new Error('overflow')
        steps++
      }
      return (steps * 1000) / (performance.now() - t0)
    },
  }
}

/** 0 bare, 1 + the trainer's weight snapshot, 2 + snapshot + its non-finite scan. */
type Mode = 0 | 1 | 2
