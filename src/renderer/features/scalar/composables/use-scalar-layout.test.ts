import { describe, expect, it } from 'vitest'
import { reuseProgram, seedProgram } from '../test-programs'
import { BOX_HEIGHT, boxHeight, layoutScalarGraph, type LayoutInputNode } from './use-scalar-layout'

const input = (p: ReturnType<typeof seedProgram>): LayoutInputNode[] =>
  p.nodes.map((n) => ({ id: n.id, op: n.op, inputs: n.inputs, width: 150, height: BOX_HEIGHT }))

describe('scalar graph layout', () => {
  it('lays the seed graph out left to right, leaves just before their first use', () => {
    const l = layoutScalarGraph(input(seedProgram()))
    const layer = (id: number) => l.values.get(id)!.layer
    // a, b → e; c joins at d; f joins at L
    expect([0, 1, 3, 2, 4, 5, 6].map(layer)).toEqual([0, 0, 1, 1, 2, 2, 3])
    expect(l.values.get(6)!.x).toBeGreaterThan(l.values.get(4)!.x)
    expect(l.ops.has(0)).toBe(false)
    expect(l.ops.get(6)!.x).toBeLessThan(l.values.get(6)!.x)
    expect(l.edges).toHaveLength(6)
  })

  it('never overlaps two boxes of one layer, extras included', () => {
    const nodes = input(seedProgram()).map((n) => (n.id === 0 ? { ...n, height: boxHeight(3) } : n))
    const l = layoutScalarGraph(nodes)
    const byLayer = new Map<number, { y: number; height: number }[]>()
    for (const v of l.values.values()) byLayer.set(v.layer, [...(byLayer.get(v.layer) ?? []), v])
    for (const boxes of byLayer.values()) {
      boxes.sort((a, b) => a.y - b.y)
      for (let i = 1; i < boxes.length; i++) expect(boxes[i]!.y).toBeGreaterThanOrEqual(boxes[i - 1]!.y + boxes[i - 1]!.height)
    }
    for (const v of l.values.values()) {
      expect(v.y).toBeGreaterThanOrEqual(0)
      expect(v.y + v.height).toBeLessThanOrEqual(l.height)
      expect(v.x + v.width).toBeLessThanOrEqual(l.width)
    }
  })

  it('draws both edges of a value used twice by one gate, apart', () => {
    const l = layoutScalarGraph(input(reuseProgram()))
    expect(l.edges.map((e) => [e.from, e.to, e.inputIndex])).toEqual([
      [0, 1, 0],
      [0, 1, 1],
    ])
    expect(l.edges[0]!.path).not.toBe(l.edges[1]!.path)
  })
})
