import { describe, expect, it } from 'vitest'
import { mlpGraph } from '../../../stores/inspect-fixtures'
import { gradColor } from './use-graph-colors'
import { flowEdges } from './use-graph-flow'

describe('graph edges for Vue Flow', () => {
  it('one edge per operand, coloured by the gradient flowing back into its source', () => {
    const s = mlpGraph()
    const edges = flowEdges(s)
    expect(edges).toHaveLength(s.edges.length)
    expect(new Set(edges.map((e) => e.id)).size).toBe(edges.length)
    const w = s.nodes.find((n) => n.label === 'layers.0.weight')!
    const fromW = edges.find((e) => e.source === String(w.id))!
    expect(fromW.style).toMatchObject({ stroke: gradColor(w) })
    expect(fromW.class).toBe('grad-edge')
    const x = s.nodes.find((n) => n.label === 'input x')!
    expect(edges.find((e) => e.source === String(x.id))!.class).toBe('no-grad-edge')
  })
})
