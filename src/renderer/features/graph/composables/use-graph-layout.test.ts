import { describe, expect, it } from 'vitest'
import { mlpGraph } from '../../../stores/inspect-fixtures'
import { inputsOf, layoutGraph, nodeSize, structureKey } from './use-graph-layout'

describe('graph layout', () => {
  it('places every node once, without overlaps, at the size OpNode draws', async () => {
    const s = mlpGraph()
    const boxes = await layoutGraph(s)
    expect([...boxes.keys()].sort((a, b) => a - b)).toEqual(s.nodes.map((n) => n.id))
    for (const n of s.nodes) expect(boxes.get(n.id)).toMatchObject(nodeSize(n))
    const all = [...boxes.values()]
    for (let i = 0; i < all.length; i++)
      for (let j = i + 1; j < all.length; j++) {
        const [a, b] = [all[i]!, all[j]!]
        const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
        expect(overlap).toBe(false)
      }
    // ELK lays out the whole MLP graph (about 4 s on a quiet 2-core machine): vitest's 5 s default
    // is a time window this test has no reason to depend on under load.
  }, 60_000)

  it('the structure key ignores numbers and changes with the structure', () => {
    const a = mlpGraph({ step: 1 })
    const b = mlpGraph({ step: 2 })
    expect(a.nodes[3]!.grad).not.toEqual(b.nodes[3]!.grad)
    expect(structureKey(a)).toBe(structureKey(b))
    expect(structureKey(mlpGraph({ hidden: [10, 10, 10] }))).not.toBe(structureKey(a))
    expect(structureKey(mlpGraph({ activation: 'relu' }))).not.toBe(structureKey(a))
  })

  it('lists a node’s operands in order', () => {
    const s = mlpGraph()
    const mm = s.nodes.find((n) => n.op === 'matmul')!
    expect(inputsOf(s, mm.id).map((n) => n.label)).toEqual(['input x', 'layers.0.weight'])
  })
})
