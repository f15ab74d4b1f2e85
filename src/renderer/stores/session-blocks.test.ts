// The form's blocks: sent only when some block is not plain, refused before the host is asked (in
// shared/model-blocks.ts's words, at the control's spec path), and said in words and formulas.
import { describe, expect, it } from 'vitest'
import { PLAIN_BLOCK } from '../../shared/model-blocks'
import { buildSpec, defaultForm, structuralKey } from './session-form'
import { formFromSpec } from './session-form-load'
import { blockChips, blockFormula, blockIssues, issuesLine, positionFormula, specBlocks } from './session-blocks'

describe('form blocks in the spec', () => {
  it('sends blocks only when some block is not plain, so plain specs and their keys stay as they were', () => {
    const form = defaultForm()
    expect(form.blocks).toEqual([PLAIN_BLOCK, PLAIN_BLOCK])
    const plain = buildSpec(form)
    expect(plain.model).not.toHaveProperty('blocks')
    expect(structuralKey(form)).not.toContain('blocks')
    form.blocks[1]!.dropout = 0.2
    expect(buildSpec(form).model.blocks).toEqual([PLAIN_BLOCK, { ...PLAIN_BLOCK, dropout: 0.2 }])
    expect(structuralKey(form)).not.toBe(structuralKey(defaultForm()))
    form.blocks[1]!.dropout = 0
    expect(buildSpec(form)).toEqual(plain)
  })

  it('aligns the blocks with the hidden layers (one per layer, plain where none is given)', () => {
    expect(specBlocks(3, [{ ...PLAIN_BLOCK, residual: true }])).toEqual({
      blocks: [{ ...PLAIN_BLOCK, residual: true }, PLAIN_BLOCK, PLAIN_BLOCK],
    })
    expect(specBlocks(1, [PLAIN_BLOCK, { ...PLAIN_BLOCK, norm: 'layer' }])).toEqual({})
    expect(specBlocks(0, [])).toEqual({})
  })

  it('a spec with blocks comes back as the same form (runs opened, sessions adopted)', () => {
    const form = defaultForm()
    form.blocks = [
      { norm: 'batch', normAt: 'pre', dropout: 0.1, residual: false },
      { norm: 'layer', normAt: 'post', dropout: 0, residual: true },
    ]
    expect(formFromSpec(buildSpec(form))).toEqual(form)
    expect(formFromSpec(buildSpec(defaultForm())).blocks).toEqual([PLAIN_BLOCK, PLAIN_BLOCK])
  })
})

describe('block refusals before the host is asked', () => {
  const form = (hidden: number[], blocks: Partial<typeof PLAIN_BLOCK>[], batchSize = 32) => ({
    hidden,
    blocks: blocks.map((b) => ({ ...PLAIN_BLOCK, ...b })),
    batchSize,
  })

  it('a residual across different widths, at the residual control, with what to do', () => {
    const issues = blockIssues(form([8, 8], [{ residual: true }, { residual: true }]), 2)
    expect(Object.keys(issues)).toEqual(['model.blocks[0].residual'])
    expect(issues['model.blocks[0].residual']).toMatch(
      /hidden layer 1 has 8 units but its input is the 2 input features.*set this layer to 2 units, or turn the residual off/,
    )
    expect(blockIssues(form([8, 4], [{}, { residual: true }]), 2)['model.blocks[1].residual']).toMatch(
      /hidden layer 2 has 4 units but its input is layer 1's 8 units/,
    )
    expect(blockIssues(form([2, 2], [{ residual: true }, { residual: true }]), 2)).toEqual({})
  })

  it('the first layer is judged only once the data width is known; bad widths are left to their fields', () => {
    expect(blockIssues(form([8], [{ residual: true }]), null)).toEqual({})
    expect(blockIssues(form([8, Number.NaN], [{}, { residual: true }]), 2)).toEqual({})
  })

  it('BatchNorm on batches of one, at the norm control', () => {
    const issues = blockIssues(form([8], [{ norm: 'batch' }], 1), 2)
    expect(issues).toEqual({
      'model.blocks[0].norm': expect.stringMatching(/batches of at least 2 rows.*the batch size is 1.*use LayerNorm/),
    })
    expect(blockIssues(form([8], [{ norm: 'layer' }], 1), 2)).toEqual({})
    expect(issuesLine(issues)).toMatch(/^Hidden layer 1: norm: BatchNorm on hidden layer 1/)
    expect(issuesLine({})).toBeNull()
  })
})

describe('blocks in words', () => {
  it('the formula a layer computes, as model-blocks.ts documents it', () => {
    expect(blockFormula(PLAIN_BLOCK)).toBe('act(W·x)')
    expect(blockFormula({ ...PLAIN_BLOCK, norm: 'batch' })).toBe('act(BN(W·x))')
    expect(blockFormula({ ...PLAIN_BLOCK, norm: 'layer', normAt: 'pre', residual: true })).toBe('x + act(W·LN(x))')
    expect(blockFormula({ norm: 'layer', normAt: 'post', dropout: 0.2, residual: true })).toBe('LN(x + drop(act(W·x)))')
    expect(positionFormula(PLAIN_BLOCK, 'post')).toBe('norm(act(W·x))')
  })

  it('chips for what is on, none for a plain layer', () => {
    expect(blockChips(PLAIN_BLOCK)).toEqual([])
    expect(blockChips({ norm: 'batch', normAt: 'mid', dropout: 0.3, residual: true })).toEqual(['BN before act', 'drop 0.3', '+skip'])
  })
})
