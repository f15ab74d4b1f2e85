// The gradient-flow lab's blocks in the form and session stores, against the fake host: one block
// per hidden layer whatever the user adds, removes or moves; blocks sent only when some block is
// not plain; refusals shown by their controls and never sent to the host; the summary with blocks.
import { describe, expect, it, vi } from 'vitest'
import { PLAIN_BLOCK } from '../../shared/model-blocks'
import { FakeHost } from '../engine/fake-host'
import { useModelSummaryStore } from '../features/studio/stores/model-summary'
import { REBUILD_DELAY_MS, UPDATE_DELAY_MS, useSessionStore } from './session'
import { useErrorsStore } from './errors'
import { useFormStore } from './form'
import { formDescription } from './session-shape'
import { useConnectionStore } from './connection'
import { useFakeHost } from './fake-host-setup'

let host: FakeHost
const count = (kind: string) => host.kinds().filter((k) => k === kind).length

async function ready() {
  const store = useSessionStore()
  await store.init()
  await vi.advanceTimersByTimeAsync(0)
  return store
}

useFakeHost((h) => (host = h))

describe('form store: one block per hidden layer', () => {
  it('adding, removing and moving layers keeps the blocks aligned, each block moving with its layer', async () => {
    await ready()
    const f = useFormStore()
    f.setBlock(1, { norm: 'layer', normAt: 'post' })
    f.addLayer()
    expect(f.form.hidden).toHaveLength(3)
    expect(f.form.blocks).toEqual([PLAIN_BLOCK, { ...PLAIN_BLOCK, norm: 'layer', normAt: 'post' }, PLAIN_BLOCK])
    f.setBlock(2, { dropout: 0.3 })
    f.moveLayer(1, -1)
    expect(f.form.blocks.map((b) => b.norm)).toEqual(['layer', 'none', 'none'])
    f.removeLayer(0)
    expect(f.form.hidden).toHaveLength(2)
    expect(f.form.blocks).toEqual([PLAIN_BLOCK, { ...PLAIN_BLOCK, dropout: 0.3 }])
    f.removeLayer(1)
    f.removeLayer(0)
    expect(f.form.blocks).toEqual([])
    f.addLayer()
    expect(f.form.blocks).toEqual([PLAIN_BLOCK])
  })

  it('a form whose layers were set without blocks is aligned when a block is changed', async () => {
    await ready()
    const f = useFormStore()
    f.form.hidden.push(4)
    f.setBlock(2, { residual: false, dropout: 0.5 })
    expect(f.form.blocks).toEqual([PLAIN_BLOCK, PLAIN_BLOCK, { ...PLAIN_BLOCK, dropout: 0.5 }])
    f.setBlock(7, { dropout: 0.1 }) // no such layer: nothing changes
    expect(f.form.blocks).toHaveLength(3)
  })
})

describe('session store: blocks in session.create', () => {
  it('sends blocks only once some block is not plain, and the host counts what the form counts', async () => {
    const store = await ready()
    expect(host.last('session.create')!.payload.model).not.toHaveProperty('blocks')
    const summary = useModelSummaryStore()
    const f = useFormStore()
    f.setBlock(1, { norm: 'batch', residual: true })
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS)
    expect(host.last('session.create')!.payload.model.blocks).toEqual([PLAIN_BLOCK, { ...PLAIN_BLOCK, norm: 'batch', residual: true }])
    // spiral: 2 → 8 → 8 → 2, plus BatchNorm's γ and β on the second layer's 8 outputs.
    expect(f.shape?.paramCount).toBe(2 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2 + 16)
    expect(store.info?.paramCount).toBe(f.shape?.paramCount)
    // The fake host describes the built model with its blocks, as the real host does.
    await vi.advanceTimersByTimeAsync(0)
    expect(summary.description?.summary).toBe('2 → 8 tanh → 8 BN tanh +skip → 2 (softmax CE) · 130 parameters · Adam')
    expect(formDescription(f.form, useConnectionStore().hello, f.freshPreview)?.summary).toBe(summary.description?.summary)

    f.setBlock(1, { norm: 'none', residual: false })
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS)
    expect(count('session.create')).toBe(3)
    expect(host.last('session.create')!.payload.model).not.toHaveProperty('blocks')
  })

  it('a residual across widths is refused at its control, and no session is asked for', async () => {
    const store = await ready()
    const f = useFormStore()
    f.setBlock(0, { residual: true }) // 2 input features into 8 units
    expect(f.issues['model.blocks[0].residual']).toMatch(/hidden layer 1 has 8 units but its input is the 2 input features/)
    expect(f.formError).toMatch(/^Hidden layer 1: residual: /)
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS * 2)
    expect(count('session.create')).toBe(1)
    expect(useErrorsStore().errors.at(-1)?.message).toMatch(/Check the settings: Hidden layer 1: residual: hidden layer 1 has 8 units/)
    // Play, Step and Rebuild do not ask either: the form says what is wrong.
    expect(await store.play()).toBe(false)
    expect(await store.rebuild()).toBe(false)
    expect(count('session.create')).toBe(1)
    expect(store.stale).toBe(true)

    // Making the widths equal (2 units) clears the refusal, and the session is built.
    f.form.hidden[0] = 2
    expect(f.issues).toEqual({})
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS)
    expect(count('session.create')).toBe(2)
    expect(host.last('session.create')!.payload.model).toMatchObject({ hidden: [2, 8], blocks: [{ residual: true }, { residual: false }] })
  })

  it('BatchNorm with a batch size of one is refused at the norm, and not sent as a live update either', async () => {
    const store = await ready()
    const f = useFormStore()
    f.setBlock(0, { norm: 'batch' })
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS)
    expect(count('session.create')).toBe(2)
    f.form.batchSize = 1
    expect(f.issues['model.blocks[0].norm']).toMatch(/BatchNorm on hidden layer 1 needs batches of at least 2 rows.*the batch size is 1/)
    await vi.advanceTimersByTimeAsync(UPDATE_DELAY_MS + REBUILD_DELAY_MS)
    expect(count('session.update')).toBe(0)
    expect(store.info?.spec.train.batchSize).toBe(32)
    f.setBlock(0, { norm: 'layer' })
    expect(f.issues).toEqual({})
  })

  it("a dropout out of range is the schema's refusal, at the dropout control", async () => {
    await ready()
    const f = useFormStore()
    f.setBlock(1, { dropout: 0.95 })
    expect(f.issues['model.blocks[1].dropout']).toBeTruthy()
    f.setBlock(1, { dropout: Number.NaN })
    expect(f.issues['model.blocks[1].dropout']).toMatch(/number/)
    await vi.advanceTimersByTimeAsync(REBUILD_DELAY_MS)
    expect(count('session.create')).toBe(1)
  })
})
