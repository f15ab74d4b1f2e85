// The piece and sampling rules from a model's shape: how rows chunk, when a step runs in pieces,
// and how often a big model takes layer statistics.
import { describe, expect, it } from 'vitest'
import { modelParamCount } from '../shared/model-rules'
import { CHUNK_FLOPS, chunkFlopsForRows, stepChunkRows, stepInPieces, statsEvery } from './work-budget'

const WIDE = [2, ...Array<number>(16).fill(1024), 2]
const MNIST = [784, 256, 128, 10]

describe('work budget', () => {
  it('runs the 16×1024 step at batch 32 in pieces over the whole batch; the MNIST-size step in one piece', () => {
    expect(stepInPieces(WIDE, 32, CHUNK_FLOPS)).toBe(true)
    expect(stepChunkRows(WIDE, CHUNK_FLOPS)).toBeGreaterThanOrEqual(32) // no gradient sums at batch 32
    expect(stepInPieces(MNIST, 128, CHUNK_FLOPS)).toBe(false)
    expect(stepChunkRows(WIDE, chunkFlopsForRows(WIDE, 7))).toBe(7)
  })

  it('takes statistics every step below a million parameters, and within 5% of the work above', () => {
    expect(statsEvery(MNIST, modelParamCount(MNIST, []), 128)).toBe(1)
    const wide = statsEvery(WIDE, modelParamCount(WIDE, []), 32)
    expect(wide).toBe(5) // 2 reads × 15.7M parameters × 20 FLOPs / (5% of 3 GFLOP a step)
    expect(statsEvery(WIDE, modelParamCount(WIDE, []), 4096)).toBe(1) // a big batch's step dwarfs them
  })
})
