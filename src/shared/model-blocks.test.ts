// The gradient-flow lab's block rules: what the architecture line says, what a block costs in
// parameters (checked against the engine's own layers), and what is refused and why.
import { describe, expect, it } from 'vitest'
import * as engine from '../engine'
import { blockLabel, blockParamCount, blockProblems, blocksOf, isPlain, PLAIN_BLOCK, type BlockOptions } from './model-blocks'
import { describeModel, modelParamCount, mlpParamCount } from './model-rules'
import { ModelSpec } from './protocol'

const block = (over: Partial<BlockOptions>): BlockOptions => ({ ...PLAIN_BLOCK, ...over })

describe('model blocks', () => {
  it('fills plain layers where none are given; a plain block adds nothing', () => {
    expect(blocksOf(2)).toEqual([PLAIN_BLOCK, PLAIN_BLOCK])
    expect(blocksOf(2, [block({ norm: 'batch' })])[1]).toEqual(PLAIN_BLOCK)
    expect(isPlain(PLAIN_BLOCK)).toBe(true)
    expect(isPlain(block({ dropout: 0.1 }))).toBe(false)
  })

  it('counts the norms γ and β like the engine layers, at the width the norm sits', () => {
    const sizes = [2, 16, 8, 3]
    const blocks = [block({ norm: 'batch' }), block({ norm: 'layer', normAt: 'pre' })]
    const engineNorms = new engine.nn.BatchNorm1d(16).parameterCount() + new engine.nn.LayerNorm(16).parameterCount()
    expect(blockParamCount(sizes, blocks)).toBe(engineNorms)
    expect(modelParamCount(sizes, blocks)).toBe(mlpParamCount(sizes) + engineNorms)
    expect(modelParamCount(sizes)).toBe(mlpParamCount(sizes))
  })

  it('refuses a residual across different widths and BatchNorm on batches of one, saying what to change', () => {
    const sizes = [2, 16, 16, 8, 1]
    const blocks = [block({ residual: true }), block({ residual: true }), block({ residual: true, norm: 'batch' })]
    const problems = blockProblems(sizes, blocks, 1)
    expect(problems.map((p) => p.path)).toEqual([
      ['blocks', 0, 'residual'],
      ['blocks', 2, 'residual'],
      ['blocks', 2, 'norm'],
    ])
    expect(problems[0]!.message).toMatch(
      /hidden layer 1 has 16 units but its input is the 2 input features.*set this layer to 2 units, or turn the residual off/,
    )
    expect(problems[1]!.message).toMatch(/hidden layer 3 has 8 units but its input is layer 2's 16 units/)
    expect(problems[2]!.message).toMatch(/at least 2 rows .* batch size is 1.*use LayerNorm/)
    expect(blockProblems(sizes, [PLAIN_BLOCK, block({ residual: true, norm: 'batch' })], 32)).toEqual([])
  })

  it('writes each layer in the order its pieces apply', () => {
    expect(blockLabel(16, 'tanh', PLAIN_BLOCK)).toBe('16 tanh')
    expect(blockLabel(16, 'tanh', block({ norm: 'batch' }))).toBe('16 BN tanh')
    expect(blockLabel(16, 'relu', block({ norm: 'layer', normAt: 'pre', dropout: 0.2, residual: true }))).toBe('LN 16 relu drop 0.2 +skip')
    expect(blockLabel(16, 'tanh', block({ norm: 'layer', normAt: 'post', residual: true }))).toBe('16 tanh +skip LN')
  })

  it('the model summary includes the blocks and their parameters', () => {
    const d = describeModel({
      sizes: [2, 16, 16, 2],
      hiddenActivations: ['tanh', 'tanh'],
      loss: 'softmaxCrossEntropy',
      auto: true,
      task: 'binary',
      optimizer: 'adam',
      blocks: [block({ norm: 'batch' }), block({ residual: true })],
    })
    expect(d.architecture).toBe('2 → 16 BN tanh → 16 tanh +skip → 2 (softmax CE)')
    expect(d.paramCount).toBe(354 + 32)
  })

  it('the protocol takes one block per hidden layer, with defaults, and bounds dropout', () => {
    const parsed = ModelSpec.parse({ hidden: [4, 4], blocks: [{ norm: 'layer' }, {}] })
    expect(parsed.blocks).toEqual([block({ norm: 'layer' }), PLAIN_BLOCK])
    expect(ModelSpec.safeParse({ hidden: [4, 4], blocks: [{}] }).error?.issues[0]?.message).toBe(
      'gives 1 blocks for 2 hidden layers; give one per hidden layer',
    )
    expect(ModelSpec.safeParse({ hidden: [4], blocks: [{ dropout: 0.95 }] }).success).toBe(false)
    expect(ModelSpec.safeParse({ hidden: [4], blocks: [{ norm: 'group' }] }).success).toBe(false)
  })
})
