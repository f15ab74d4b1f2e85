// Weights in (session.importWeights: our layout and PyTorch's, mismatches explained), and a data
// directory that cannot be written: saving stops with one clear message, training goes on.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeSafetensors, encodeSafetensors } from '../../engine'
import { spec } from '../test-helpers'
import { checkpointTensors, cleanupAfterEach, make, tempDir } from './test-helpers'

cleanupAfterEach()

/** [rows, cols] row-major → [cols, rows]. */
function transpose(a: Float32Array | Float64Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]
  return out
}

describe('session.importWeights', () => {
  it('loads matching weights; explains every mismatch and loads nothing otherwise', async () => {
    const dir = tempDir()
    const { ok, fail } = make(dir)
    const a = await ok('session.create', spec())
    await ok('session.step', { sessionId: a.state.sessionId, steps: 40 })
    const bytes = readFileSync(join(dir, a.runId!, 'checkpoints', 'step-40.safetensors'))
    const b = await ok('session.create', spec({ train: { batchSize: 16, evalEvery: 50, seed: 99 } }))
    const r = await ok('session.importWeights', { sessionId: b.state.sessionId, safetensorsBase64: bytes.toString('base64') })
    expect(r).toEqual({ loaded: ['layers.0.bias', 'layers.0.weight', 'layers.1.bias', 'layers.1.weight'], step: 0 })
    await ok('session.pause', { sessionId: b.state.sessionId })
    await ok('session.step', { sessionId: b.state.sessionId, steps: 1 }) // checkpoint of b at step 1 starts from a's weights
    const ta = checkpointTensors(dir, a.runId!, 40)
    const tb0 = decodeSafetensors(new Uint8Array(bytes)).tensors
    expect(ta['layers.0.weight'].data).toEqual(tb0['layers.0.weight'].data)

    const c = await ok('session.create', spec({ model: { hidden: [3] } }))
    const before = checkpointTensors(dir, c.runId!, 0)
    const err = await fail('session.importWeights', { sessionId: c.state.sessionId, safetensorsBase64: bytes.toString('base64') })
    expect(err.code).toBe('invalid_payload')
    expect(err.message).toContain('layers.0.weight: file has [2,8], model needs [2,3]')
    expect(err.message).toContain('layers.1.weight: file has [8,2], model needs [3,2]')
    expect(err.message).toContain('nothing was loaded')
    await ok('session.dispose', { sessionId: c.state.sessionId })
    const lastC = checkpointTensors(dir, c.runId!, 0)
    expect(lastC['layers.0.weight'].data).toEqual(before['layers.0.weight'].data)

    // PyTorch's layout (the exported nn.Sequential: net.<k>.weight is [out, in]) is mapped and transposed.
    const torch = encodeSafetensors({
      'net.0.weight': { dtype: 'F32', shape: [8, 2], data: transpose(ta['layers.0.weight'].data, 2, 8) },
      'net.0.bias': ta['layers.0.bias'],
      'net.2.weight': { dtype: 'F32', shape: [2, 8], data: transpose(ta['layers.1.weight'].data, 8, 2) },
      'net.2.bias': ta['layers.1.bias'],
    })
    const d = await ok('session.create', spec({ train: { batchSize: 16, evalEvery: 50, seed: 7 } }))
    expect(
      (await ok('session.importWeights', { sessionId: d.state.sessionId, safetensorsBase64: Buffer.from(torch).toString('base64') }))
        .loaded,
    ).toHaveLength(4)
    const td = checkpointTensors(dir, d.runId!, 0)
    for (const k of ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']) expect(td[k].data, k).toEqual(ta[k].data)

    const extra = encodeSafetensors({ 'layers.9.weight': { dtype: 'F32', shape: [1], data: new Float32Array(1) } })
    expect(
      (await fail('session.importWeights', { sessionId: b.state.sessionId, safetensorsBase64: Buffer.from(extra).toString('base64') }))
        .message,
    ).toMatch(/layers\.0\.weight: missing from the file.*layers\.9\.weight: the model has no such parameter/)
    expect(await fail('session.importWeights', { sessionId: b.state.sessionId, safetensorsBase64: 'AAAA' })).toMatchObject({
      code: 'invalid_payload',
    })
    expect(await fail('session.importWeights', { sessionId: 's99', safetensorsBase64: 'AAAA' })).toMatchObject({ code: 'not_found' })
  })
})

describe('session.importWeights with the lab blocks', () => {
  it("loads a checkpoint's norms and running statistics, and the PyTorch export of blocks (blocks.*, I64 num_batches_tracked)", async () => {
    const dir = tempDir()
    const { ok, fail } = make(dir)
    const blocks = [
      { norm: 'batch' as const, normAt: 'mid' as const, dropout: 0.2, residual: false },
      { norm: 'layer' as const, normAt: 'pre' as const, dropout: 0, residual: true },
    ]
    const withBlocks = (seed: number) =>
      spec({ model: { hidden: [8, 8], blocks }, optimizer: { type: 'adam', lr: 0.01 }, train: { batchSize: 16, evalEvery: 50, seed } })
    const a = await ok('session.create', withBlocks(1))
    await ok('session.step', { sessionId: a.state.sessionId, steps: 30 })
    await ok('session.pause', { sessionId: a.state.sessionId })
    const ta = checkpointTensors(dir, a.runId!, 30)
    const state = Object.keys(ta)
      .filter((k) => !k.startsWith('optim.') && k !== 'sampler.order')
      .sort()
    expect(state).toEqual(expect.arrayContaining(['norms.0.running_mean', 'norms.0.num_batches_tracked', 'norms.1.weight']))
    expect(Array.from(ta['norms.0.num_batches_tracked'].data)).toEqual([30])

    const own = readFileSync(join(dir, a.runId!, 'checkpoints', 'step-30.safetensors'))
    const b = await ok('session.create', withBlocks(2))
    expect((await ok('session.importWeights', { sessionId: b.state.sessionId, safetensorsBase64: own.toString('base64') })).loaded).toEqual(
      state,
    )
    const tb = checkpointTensors(dir, b.runId!, 0)
    for (const k of state) expect(tb[k].data, k).toEqual(ta[k].data)

    const [file] = (await ok('runs.export', { runId: a.runId!, format: 'safetensors', checkpointStep: 30 })).files
    const torch = decodeSafetensors(new Uint8Array(Buffer.from(file.content, 'base64')))
    expect(torch.tensors['blocks.0.norm.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data: Float64Array.from([30]) })
    expect(Object.keys(torch.tensors)).toEqual(expect.arrayContaining(['blocks.0.linear.weight', 'blocks.1.norm.bias', 'out.weight']))
    const c = await ok('session.create', withBlocks(3))
    expect((await ok('session.importWeights', { sessionId: c.state.sessionId, safetensorsBase64: file.content })).loaded).toEqual(state)
    const tc = checkpointTensors(dir, c.runId!, 0)
    for (const k of state) expect(tc[k].data, k).toEqual(ta[k].data)

    // A plain model's file lacks the norms: every missing one is named, nothing is loaded.
    const plain = await ok('session.create', spec({ model: { hidden: [8, 8] } }))
    const plainBytes = readFileSync(join(dir, plain.runId!, 'checkpoints', 'step-0.safetensors'))
    const err = await fail('session.importWeights', { sessionId: c.state.sessionId, safetensorsBase64: plainBytes.toString('base64') })
    expect(err.message).toMatch(
      /norms\.0\.weight: missing from the file \(model needs \[8\]\).*norms\.0\.running_var: missing from the file/,
    )
  })
})

describe('runs: an unwritable data directory', () => {
  it('a data directory that cannot exist: sessions train unsaved, runs.list says why', async () => {
    const dir = tempDir()
    const file = join(dir, 'a-file')
    writeFileSync(file, 'not a directory')
    const { ok, of } = make(join(file, 'runs')) // ENOTDIR, even for root
    const info = await ok('session.create', spec())
    expect(info.runId).toBeNull()
    // Creating a run retries the disk, so the message names that last attempt.
    expect(info.state.message).toMatch(/runs cannot be saved: could not create a run folder .*ENOTDIR.*training continues in memory/)
    expect(info.state.message).not.toMatch(/ENOTDIR: ENOTDIR/)
    expect((await ok('session.step', { sessionId: 's1', steps: 50 })).step).toBe(50)
    const listed = await ok('runs.list', {})
    expect(listed.runs).toEqual([])
    expect(listed.storage).toMatchObject({ writable: false, message: expect.stringContaining('ENOTDIR') })
    expect(of('train.metrics', 's1').flatMap((b) => b.steps)).toHaveLength(50)
  })

  it('saving fails mid-run: one state message, training goes on, what was saved stays', async () => {
    const dir = tempDir()
    const { ok, of } = make(dir)
    const info = await ok('session.create', spec())
    await ok('session.step', { sessionId: 's1', steps: 120 })
    const runDir = join(dir, info.runId!)
    const runJson = readFileSync(join(runDir, 'run.json'), 'utf8')
    // The checkpoints folder becomes a file: the next checkpoint fails with ENOTDIR (root too).
    rmSync(join(runDir, 'checkpoints'), { recursive: true })
    writeFileSync(join(runDir, 'checkpoints'), '')
    await ok('session.step', { sessionId: 's1', steps: 200 })
    expect((await ok('session.step', { sessionId: 's1', steps: 80 })).step).toBe(400)
    const messages = of('session.state', 's1')
      .map((s) => s.message)
      .filter((m) => m?.includes('cannot be saved'))
    expect(messages).toHaveLength(1)
    const listed = await ok('runs.list', {})
    expect(listed.storage).toMatchObject({ writable: false, message: expect.stringMatching(/checkpoint at step 200.*ENOTDIR/) })
    expect(readFileSync(join(runDir, 'run.json'), 'utf8')).toBe(runJson)
    const m = await ok('runs.metrics', { runId: info.runId!, maxPoints: 20_000 })
    expect(m.steps.slice(0, 120)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1))
    // One run's broken folder does not break the store: a new session is saved again (it used to
    // get runId null until a restart), and the storage message is cleared.
    const next = await ok('session.create', spec())
    expect(next.runId).toMatch(/^r/)
    expect(next.state.message).toBeUndefined()
    expect((await ok('runs.list', {})).storage).toEqual({ dir, writable: true })
  })
})
