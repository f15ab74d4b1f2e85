// The network view's blocks: taken from the spec of the session the snapshot is of, badges on a
// layer's header, and a skip arc from a residual layer's input column over to its output column.
import { describe, expect, it } from 'vitest'
import { PLAIN_BLOCK, type BlockOptions } from '../../../../shared/model-blocks'
import { networkFixture } from '../../../stores/inspect-fixtures'
import { columnSizes, layoutNetwork } from './use-network-layout'
import { blockBadges, skipArcs, snapshotBlocks } from './use-network-blocks'

const RESIDUAL: BlockOptions = { ...PLAIN_BLOCK, residual: true }

describe('network view: blocks', () => {
  it('draws a skip arc for each residual layer, from its input column to its output column, above them', () => {
    const g = layoutNetwork([2, 8, 8, 8, 2], 1000, 500)
    const arcs = skipArcs(g, [PLAIN_BLOCK, RESIDUAL, { ...RESIDUAL, norm: 'batch' }])
    expect(arcs.map((a) => a.layer)).toEqual([1, 2])
    const [a, b] = [g.columns[1]!, g.columns[2]!]
    const start = arcs[0]!.d.match(/^M([\d.]+),([\d.]+) /)!
    const end = arcs[0]!.d.match(/ ([\d.]+),([\d.]+)$/)!
    expect([Number(start[1]), Number(end[1])]).toEqual([a.x, b.x])
    expect(Number(start[2])).toBeLessThan(a.top)
    expect(Number(end[2])).toBeLessThan(b.top)
    expect(arcs[0]!.peak.x).toBeCloseTo((a.x + b.x) / 2)
    expect(arcs[0]!.peak.y).toBeLessThan(Number(start[2]))
    expect(skipArcs(g, [PLAIN_BLOCK, PLAIN_BLOCK, PLAIN_BLOCK])).toEqual([])
  })

  it("takes the blocks from the spec of the snapshot's own session only", () => {
    const s = { ...networkFixture([2, 8, 8, 2]), sessionId: 's3' }
    const info = (id: string, blocks?: BlockOptions[]) =>
      ({ state: { sessionId: id }, spec: { model: { blocks } } }) as unknown as Parameters<typeof snapshotBlocks>[1]
    expect(snapshotBlocks(s, info('s3', [PLAIN_BLOCK, RESIDUAL]))).toEqual([PLAIN_BLOCK, RESIDUAL])
    expect(snapshotBlocks(s, info('s3'))).toEqual([PLAIN_BLOCK, PLAIN_BLOCK])
    expect(snapshotBlocks(s, info('s4', [PLAIN_BLOCK, RESIDUAL]))).toEqual([PLAIN_BLOCK, PLAIN_BLOCK])
    expect(snapshotBlocks(null, info('s3', [RESIDUAL]))).toEqual([])
    const g = layoutNetwork(columnSizes(s), 800, 400)
    expect(skipArcs(g, snapshotBlocks(s, info('s3', [PLAIN_BLOCK, RESIDUAL]))).map((a) => a.layer)).toEqual([1])
  })

  it('badges a normalised layer (BN/LN, where it sits as a formula), its dropout p and its skip', () => {
    expect(blockBadges(PLAIN_BLOCK)).toEqual([])
    const badges = blockBadges({ norm: 'batch', normAt: 'mid', dropout: 0.25, residual: true })
    expect(badges.map((b) => b.text)).toEqual(['BN', 'p 0.25', '+skip'])
    expect(badges[0]!.title).toBe('BatchNorm before the activation: x + drop(act(BN(W·x)))')
    expect(blockBadges({ ...PLAIN_BLOCK, norm: 'layer', normAt: 'pre' })[0]).toEqual({
      text: 'LN',
      title: 'LayerNorm before the layer: act(W·LN(x))',
    })
  })
})
