// session.neuronMaps through the host: every neuron's map from one pass equals the model run by
// hand at grid points, the reply is capped and sampled as it says, and data without an input
// plane is refused by name.
import { afterEach, describe, expect, it } from 'vitest'
import { data, nn, noGrad, tensor } from '../engine'
import { okReply, parseReply, type RequestPayload } from '../shared/protocol'
import { NEURON_MAPS_MAX_CELLS } from '../shared/protocol-inspect'
import { mapCounts, spread, type NeuronMapsResult } from './inspect-neuron-maps'
import { spec, testHost } from './test-helpers'
import type { TrainingSession } from './session'

let current: ReturnType<typeof testHost> | null = null
afterEach(() => {
  current?.host.dispose()
  current = null
})

async function maps(payload: RequestPayload<'session.neuronMaps'>): Promise<NeuronMapsResult> {
  const r = await current!.send('session.neuronMaps', payload)
  const parsed = parseReply('session.neuronMaps', r)
  if (!parsed.ok) throw new Error(`session.neuronMaps: ${parsed.error.code}: ${parsed.error.message}`)
  return parsed.result
}

/** Map j of column c, dequantised. */
function values(m: NeuronMapsResult, c: number, j: number): number[] {
  const col = m.columns[c]!
  const cells = m.resolution ** 2
  const bytes = Buffer.from(col.data, 'base64').subarray(j * cells, (j + 1) * cells)
  return Array.from(bytes, (b) => col.min[j]! + ((col.max[j]! - col.min[j]!) * b) / 255)
}

const session = (id = 's1'): TrainingSession => current!.host['sessions'].get(id)!

describe('session.neuronMaps', () => {
  it('every neuron of every column, equal to a forward pass by hand at grid points', async () => {
    current = testHost()
    const features = ['x1', 'x2', 'x1x2', 'sinx1'] as const
    await current.ok(
      'session.create',
      spec({ model: { hidden: [5, 3] }, data: { generator: 'xor', n: 200, seed: 1, features: [...features] } }),
    )
    await current.ok('session.step', { sessionId: 's1', steps: 25 })
    const m = await maps({ sessionId: 's1', resolution: 8 })
    expect(m).toMatchObject({ sessionId: 's1', step: 25, resolution: 8, sampled: false })
    expect(m.columns.map((c) => c.width)).toEqual([4, 5, 3, 2])
    expect(m.columns.map((c) => c.indices)).toEqual([
      [0, 1, 2, 3],
      [0, 1, 2, 3, 4],
      [0, 1, 2],
      [0, 1],
    ])
    const { model } = session().trainer
    const r = m.resolution
    for (const [row, col] of [
      [0, 0],
      [2, 5],
      [7, 7],
      [4, 1],
    ] as const) {
      const x = m.xRange[0] + ((m.xRange[1] - m.xRange[0]) * col) / (r - 1)
      const y = m.yRange[1] - ((m.yRange[1] - m.yRange[0]) * row) / (r - 1)
      const f = data.featurizeRows(Float32Array.of(x, y), features)
      const [h1, h2, p] = noGrad(() => {
        const a = nn.activate(model.layers[0].forward(tensor(f, { shape: [1, 4] })), 'tanh')
        const b = nn.activate(model.layers[1].forward(a), 'tanh')
        return [a, b, model.layers[2].forward(b).softmax(1)]
      })
      const byHand = [Array.from(f), ...[h1, h2, p].map((t) => Array.from(t.dataSync()))]
      byHand.forEach((want, c) =>
        want.forEach((v, j) => {
          const got = values(m, c, j)[row * r + col]!
          // Quantised to bytes: half a step of the map's own range, plus float32 rounding.
          const step = (m.columns[c]!.max[j]! - m.columns[c]!.min[j]!) / 255
          expect(Math.abs(got - v), `column ${c} neuron ${j} at (${row}, ${col})`).toBeLessThanOrEqual(step / 2 + 1e-5)
        }),
      )
    }
    // The extremes of each map are its own min and max (bytes 0 and 255 are used).
    const h = Buffer.from(m.columns[1]!.data, 'base64').subarray(0, 64)
    expect([Math.min(...h), Math.max(...h)]).toEqual([0, 255])
    // The output is P(class): the two maps add up to 1 everywhere.
    const [p0, p1] = [values(m, 3, 0), values(m, 3, 1)]
    p0.forEach((v, i) => expect(v + p1[i]!).toBeCloseTo(1, 2))
  })

  it('samples wide columns evenly, caps the maps and the cells, and says so', async () => {
    current = testHost()
    await current.ok('session.create', spec({ model: { hidden: [1024, 6] } }))
    const m = await maps({ sessionId: 's1', resolution: 16 })
    expect(m.sampled).toBe(true)
    expect(m.columns.map((c) => [c.width, c.indices.length])).toEqual([
      [2, 2],
      [1024, 8],
      [6, 6],
      [2, 2],
    ])
    expect(m.columns[1]!.indices).toEqual([64, 192, 320, 448, 576, 704, 832, 960])
    // Fewer maps in all than the columns want: every column still gets some.
    const few = await maps({ sessionId: 's1', resolution: 16, maxMaps: 7 })
    expect(few.columns.map((c) => c.indices.length)).toEqual([2, 2, 2, 1])
    // The cell cap: 32² cells leave room for 64 maps, whatever maxMaps asks.
    const big = await maps({ sessionId: 's1', resolution: 32, maxPerColumn: 64, maxMaps: 256 })
    const total = big.columns.reduce((s, c) => s + c.indices.length, 0)
    expect(big.resolution).toBe(32)
    expect(total).toBe(NEURON_MAPS_MAX_CELLS / 32 ** 2)
    expect(big.columns.map((c) => c.indices.length)).toEqual([2, 54, 6, 2])
  })

  it('refuses data without an input plane by name, and a reply whose maps do not add up', async () => {
    current = testHost()
    await current.ok('session.create', spec({ data: { source: 'bundled', name: 'iris' } }))
    const e = await current.fail('session.neuronMaps', { sessionId: 's1' })
    expect(e.code).toBe('invalid_payload')
    expect(e.message).toMatch(/^session\.neuronMaps: neuron maps are drawn over the plane of 2 raw input columns, but "[^"]+" has 4$/)
    expect((await current.fail('session.neuronMaps', { sessionId: 's1', resolution: 64 })).code).toBe('invalid_payload')

    await current.ok('session.create', spec())
    const good = await maps({ sessionId: 's2', resolution: 4 })
    const broken = { ...good, columns: good.columns.map((c, i) => (i === 1 ? { ...c, data: c.data.slice(4) } : c)) }
    const parsed = parseReply('session.neuronMaps', okReply(1, broken))
    expect(parsed.ok).toBe(false)
    expect(!parsed.ok && parsed.error.message).toMatch(/columns\[1\]\.data: must hold 8 maps of 4² bytes/)
  })
})

describe('how many maps and which', () => {
  it('fills columns to an even level, then one more each from the left', () => {
    expect(mapCounts([2, 8, 8, 2], 8, 100)).toEqual([2, 8, 8, 2])
    expect(mapCounts([2, 1024, 2], 8, 100)).toEqual([2, 8, 2])
    expect(mapCounts([2, 8, 8, 8, 2], 8, 12)).toEqual([2, 3, 3, 2, 2])
    expect(mapCounts([3, 3], 8, 1)).toEqual([1, 0])
  })

  it('spreads a sample over the whole column, ascending and distinct', () => {
    expect(spread(4, 8)).toEqual([0, 1, 2, 3])
    expect(spread(10, 3)).toEqual([1, 5, 8])
    const s = spread(1000, 7)
    expect(new Set(s).size).toBe(7)
    expect(s.every((v, i) => i === 0 || v > s[i - 1]!)).toBe(true)
  })
})
