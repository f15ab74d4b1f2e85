// runs.import on the real host: a PyTorch nn.Sequential state dict (net.<k>.weight [out, in])
// becomes a new run whose model is read off the shapes, with the weights loaded and checkpointed
// at step 0, that trains on; files that do not fit are refused with every difference listed.
import { describe, expect, it } from 'vitest'
import { encodeSafetensors, type SafeTensor } from '../../engine'
import { checkpointTensors, cleanupAfterEach, make, tempDir } from './test-helpers'
import { spec } from '../test-helpers'

cleanupAfterEach()

const t = (shape: number[], start = 0): SafeTensor => {
  const n = shape.reduce((a, b) => a * b, 1)
  return { dtype: 'F32', shape, data: Float32Array.from({ length: n }, (_, i) => ((start + i) % 7) / 10 - 0.3) }
}
const b64 = (tensors: Record<string, SafeTensor>): string => Buffer.from(encodeSafetensors(tensors)).toString('base64')

/** A torch MLP 2 → 5 → 3 → out in nn.Sequential's names (the ReLUs at 1 and 3 hold no tensors). */
function torchMlp(out: number, inputs = 2): Record<string, SafeTensor> {
  return {
    'net.0.weight': t([5, inputs]),
    'net.0.bias': t([5], 1),
    'net.2.weight': t([3, 5], 2),
    'net.2.bias': t([3], 3),
    'net.4.weight': t([out, 3], 4),
    'net.4.bias': t([out], 5),
  }
}

describe('runs.import', () => {
  it('infers the hidden widths, keeps the base setup and the chosen activation, loads and checkpoints the weights', async () => {
    const dir = tempDir()
    const h = make(dir)
    const base = { ...spec(), model: { hidden: [8, 8, 8], activation: 'tanh' as const } }
    const probe = await h.ok('session.create', base)
    const out = probe.outputSize
    const r = await h.ok('runs.import', { base, activation: 'relu', name: 'from torch', safetensorsBase64: b64(torchMlp(out)) })
    expect(r.hidden).toEqual([5, 3])
    expect(r.loaded).toEqual(['layers.0.bias', 'layers.0.weight', 'layers.1.bias', 'layers.1.weight', 'layers.2.bias', 'layers.2.weight'])
    const info = await h.ok('session.info', { sessionId: r.sessionId })
    expect(info.spec.model).toMatchObject({ hidden: [5, 3], activation: 'relu' })
    expect(info.spec.data).toMatchObject(base.data)
    expect(info.runId).toBe(r.runId)
    const listed = (await h.ok('runs.list', {})).runs.find((x) => x.runId === r.runId)!
    expect(listed).toMatchObject({ name: 'from torch', checkpoints: [0] })
    // Saved in our orientation: net.2.weight [3,5] is layers.1.weight [5,3], transposed.
    const saved = checkpointTensors(dir, r.runId!, 0)['layers.1.weight']
    expect(saved.shape).toEqual([5, 3])
    expect(saved.data[1]).toBeCloseTo(t([3, 5], 2).data[5], 6)
    const state = await h.ok('session.step', { sessionId: r.sessionId, steps: 3 })
    expect(state.step).toBe(3)
  })

  it("reads a bare nn.Sequential's state dict (0.weight …) saved under DDP's module. prefix", async () => {
    const h = make(tempDir())
    const base = spec()
    const out = (await h.ok('session.create', base)).outputSize
    const bare = Object.fromEntries(Object.entries(torchMlp(out)).map(([n, x]) => [`module.${n.slice('net.'.length)}`, x]))
    const r = await h.ok('runs.import', { base, safetensorsBase64: b64(bare) })
    expect(r.hidden).toEqual([5, 3])
    expect(r.loaded).toHaveLength(6)
  })

  it('lists every misfit with the data, and every malformed tensor, creating nothing', async () => {
    const h = make(tempDir())
    const base = spec()
    const before = (await h.ok('runs.list', {})).total
    const wrongData = await h.fail('runs.import', { base, safetensorsBase64: b64(torchMlp(9, 4)) })
    expect(wrongData.code).toBe('invalid_payload')
    expect(wrongData.message).toContain('layers.0.weight takes 4 inputs but the data gives 2 (x1, x2)')
    expect(wrongData.message).toMatch(/layers\.2\.weight gives 9 outputs but the data's task needs \d/)

    const broken = await h.fail('runs.import', {
      base,
      safetensorsBase64: b64({ 'layers.0.weight': t([2, 4]), 'layers.1.weight': t([3, 1]), 'layers.1.bias': t([2]), 'head.w': t([1]) }),
    })
    expect(broken.message).toContain('head.w: not a tensor of an MLP')
    expect(broken.message).toContain('layers.1.bias: has shape [2]; layers.1.weight [3,1] needs [1]')
    expect(broken.message).toContain('layers.1.weight: takes 3 inputs but layers.0 gives 4 outputs')
    expect((await h.ok('runs.list', {})).total).toBe(before)
    expect(h.host['sessions'].size).toBe(0)
  })
})
