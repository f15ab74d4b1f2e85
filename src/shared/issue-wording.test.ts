import { describe, expect, it } from 'vitest'
import { SessionSpec } from './protocol'
import { fieldName, fieldNameOfPath, issueForField, issueSentence } from './issue-wording'

const spec = (over: Record<string, unknown> = {}) => ({
  model: { hidden: [8, 8], activation: 'tanh' },
  data: { generator: 'spiral' },
  optimizer: { type: 'adam', lr: 0.01 },
  ...over,
})
/** The sentences for a spec the real schema refuses. */
function sentences(input: unknown): string[] {
  const parsed = SessionSpec.safeParse(input)
  if (parsed.success) throw new Error('expected the schema to refuse it')
  return parsed.error.issues.map((i) => issueSentence(i, input))
}

describe('validation problems in words', () => {
  it('names the field as its control does, gives the limit and the value', () => {
    expect(sentences(spec({ optimizer: { type: 'adam', lr: 50 } }))).toEqual(['Learning rate must be at most 10 (it is 50)'])
    expect(sentences(spec({ model: { hidden: [8, 0] } }))).toEqual(["Hidden layer 2's width must be at least 1 (it is 0)"])
    expect(sentences(spec({ model: { hidden: [8, 2.5] } }))).toEqual(["Hidden layer 2's width must be a whole number (it is 2.5)"])
    expect(sentences(spec({ train: { batchSize: 0 } }))).toEqual(['Batch size must be at least 1 (it is 0)'])
    expect(sentences(spec({ optimizer: { type: 'sgd', lr: 0.1, momentum: 1 } }))).toEqual(['Momentum must be below 1 (it is 1)'])
  })

  it('never shows the schema’s own wording', () => {
    const all = [
      ...sentences(spec({ optimizer: { type: 'adam', lr: Number.NaN } })),
      ...sentences(spec({ model: { hidden: Array(40).fill(4) } })),
      ...sentences(spec({ data: { generator: 'spiral', noise: 3 } })),
    ]
    expect(all).toEqual(['Learning rate must be a number', 'Hidden layers must have at most 16 items', 'Noise must be at most 1 (it is 3)'])
    for (const s of all) expect(s).not.toMatch(/Too big|Too small|Invalid input|expected number|<=|>=/)
  })

  it('words block fields per layer, and falls back to the words of the key', () => {
    expect(fieldName(['model', 'blocks', 2, 'dropout'])).toBe('Hidden layer 3: dropout p')
    expect(fieldNameOfPath('model.blocks[0].residual')).toBe('Hidden layer 1: residual')
    expect(fieldNameOfPath('data.features')).toBe('Input features')
    expect(fieldName(['train', 'someNewSetting'])).toBe('Some new setting')
    expect(issueForField({ code: 'custom', path: ['x'], message: 'gives 3 activations for 2 hidden layers', input: 0 })).toBe(
      'gives 3 activations for 2 hidden layers',
    )
  })
})
