import { describe, expect, it } from 'vitest'
import { EngineError } from '../errors.js'
import { classCounts, type Dataset, validateDataset } from './dataset.js'
import { generate, type GeneratorName, listGenerators, MAX_SAMPLES, MOONS_CENTER, MOONS_SCALE, regGaussTarget } from './generators.js'

const NAMES: GeneratorName[] = ['circle', 'xor', 'gauss', 'spiral', 'moons', 'spiral3', 'blobs', 'reg-plane', 'reg-gauss']
const BINARY: GeneratorName[] = ['circle', 'xor', 'gauss', 'spiral', 'moons']

function expectArgError(fn: () => unknown, ...parts: string[]): void {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err, `expected an EngineError mentioning ${parts.join(', ')}`).toBeInstanceOf(EngineError)
  expect((err as EngineError).code).toBe('argument')
  expect((err as EngineError).op).toBe('generate')
  for (const p of parts) expect((err as Error).message).toContain(p)
}

function points(ds: Dataset): { x: number; y: number; label: number }[] {
  return Array.from({ length: ds.n }, (_, i) => ({ x: ds.x[2 * i], y: ds.x[2 * i + 1], label: ds.y[i] }))
}

/** Angle difference wrapped to (-π, π]. */
function angleDiff(a: number, b: number): number {
  const d = (a - b) % (2 * Math.PI)
  return d > Math.PI ? d - 2 * Math.PI : d <= -Math.PI ? d + 2 * Math.PI : d
}

describe('registry', () => {
  it('lists every generator with its task and defaults', () => {
    const list = listGenerators()
    expect(list.map((g) => g.name)).toEqual(NAMES)
    for (const g of list) {
      expect(g.label.length).toBeGreaterThan(0)
      expect(g.defaults.n).toBe(500)
      expect(g.nClasses).toBe(g.task === 'regression' ? 0 : g.task === 'binary' ? 2 : 3)
    }
    expect(list.find((g) => g.name === 'blobs')?.classesRange).toEqual([2, 10])
    list[0].defaults.n = 7
    expect(listGenerators()[0].defaults.n).toBe(500)
  })
})

describe.each(NAMES)('generate(%s)', (name) => {
  it('is reproducible per seed and differs across seeds', () => {
    const a = generate(name, { n: 200, noise: 0.2, seed: 11 })
    const b = generate(name, { n: 200, noise: 0.2, seed: 11 })
    const c = generate(name, { n: 200, noise: 0.2, seed: 12 })
    expect(a.x).toEqual(b.x)
    expect(a.y).toEqual(b.y)
    expect(a.x).not.toEqual(c.x)
  })

  it('has the right sizes, labels in range and sane coordinates', () => {
    const minN = Math.max(1, listGenerators().find((g) => g.name === name)!.nClasses)
    for (const n of [minN, 7, 500]) {
      const ds = generate(name, { n, noise: 0.5, seed: 3 })
      expect(ds.n).toBe(n)
      expect(ds.x.length).toBe(2 * n)
      expect(ds.y.length).toBe(n)
      expect(ds.nFeatures).toBe(2)
      expect(ds.featureNames).toEqual(['x1', 'x2'])
      expect(ds.name).toBe(name)
      validateDataset(ds)
    }
    const ds = generate(name)
    expect(ds.n).toBe(500)
    for (const v of ds.x) expect(Math.abs(v)).toBeLessThan(8)
    if (ds.task === 'regression') for (const t of ds.y) expect(Math.abs(t)).toBeLessThanOrEqual(1.2 + 1e-6)
    else expect(Math.min(...classCounts(ds))).toBeGreaterThan(0)
  })
})

describe('class balance and row order', () => {
  it.each(BINARY)('%s is balanced and shuffled', (name) => {
    const ds = generate(name, { n: 1000, seed: 2 })
    const [c0, c1] = classCounts(ds)
    expect(c0 + c1).toBe(1000)
    expect(Math.abs(c0 - c1)).toBeLessThan(100) // xor is random, the rest exactly 500/500
    // Rows are shuffled, so the first half is not one class.
    expect(new Set(ds.y.subarray(0, 20)).size).toBe(2)
  })

  it('gives exactly n points for odd n, classes as even as possible', () => {
    expect(classCounts(generate('circle', { n: 201 }))).toEqual([100, 101])
    expect(classCounts(generate('spiral3', { n: 10, classes: 3 }))).toEqual([4, 3, 3])
    expect(classCounts(generate('blobs', { n: 500, classes: 5 }))).toEqual([100, 100, 100, 100, 100])
  })
})

describe('noise = 0 data follows each rule', () => {
  it('circle: label 1 exactly inside radius 2.5, nothing between 2.5 and 3.5', () => {
    for (const p of points(generate('circle', { n: 1000, seed: 4 }))) {
      const r = Math.hypot(p.x, p.y)
      expect(p.label).toBe(r < 3 ? 1 : 0)
      expect(r <= 2.5 + 1e-5 || (r >= 3.5 - 1e-5 && r <= 5 + 1e-5)).toBe(true)
    }
  })

  it('circle: noise flips labels near the rim, as in Playground', () => {
    const flipped = points(generate('circle', { n: 1000, noise: 0.5, seed: 4 })).filter(
      (p) => p.label !== (Math.hypot(p.x, p.y) < 2.5 ? 1 : 0),
    )
    expect(flipped.length).toBeGreaterThan(10)
  })

  it('xor: label = [x1·x2 ≥ 0], points kept 0.3 off the axes', () => {
    for (const p of points(generate('xor', { n: 1000, seed: 4 }))) {
      expect(p.label).toBe(p.x * p.y >= 0 ? 1 : 0)
      expect(Math.min(Math.abs(p.x), Math.abs(p.y))).toBeGreaterThanOrEqual(0.3 - 1e-6)
      expect(Math.max(Math.abs(p.x), Math.abs(p.y))).toBeLessThanOrEqual(5.3 + 1e-5)
    }
  })

  it('gauss: class 1 around (2, 2), class 0 around (-2, -2), variance 0.5', () => {
    const pts = points(generate('gauss', { n: 4000, seed: 4 }))
    for (const [label, c] of [
      [1, 2],
      [0, -2],
    ]) {
      const cls = pts.filter((p) => p.label === label)
      const mx = cls.reduce((s, p) => s + p.x, 0) / cls.length
      const my = cls.reduce((s, p) => s + p.y, 0) / cls.length
      const vx = cls.reduce((s, p) => s + (p.x - mx) ** 2, 0) / cls.length
      expect(mx).toBeCloseTo(c, 1)
      expect(my).toBeCloseTo(c, 1)
      expect(vx).toBeCloseTo(0.5, 1)
    }
  })

  it.each([
    ['spiral', 2],
    ['spiral3', 3],
    ['spiral3', 5],
  ] as const)('%s (%i arms): each point lies on its arm', (name, k) => {
    const ds = generate(name, { n: 600, seed: 4, ...(name === 'spiral3' ? { classes: k } : {}) })
    expect(ds.nClasses).toBe(k)
    for (const p of points(ds)) {
      const r = Math.hypot(p.x, p.y)
      expect(r).toBeLessThan(5)
      if (r < 0.05) continue // the angle of a point at the origin is meaningless
      // Playground: x = r sin t, y = r cos t, t = 1.75 · (r / 5) · 2π + phase.
      const phase = name === 'spiral' ? (p.label === 1 ? 0 : Math.PI) : (2 * Math.PI * p.label) / k
      const t = 1.75 * (r / 5) * 2 * Math.PI + phase
      expect(Math.abs(angleDiff(Math.atan2(p.x, p.y), t))).toBeLessThan(1e-4)
    }
  })

  it('moons: class 0 on the upper half circle, class 1 on the lower one', () => {
    for (const p of points(generate('moons', { n: 400, seed: 4 }))) {
      const rx = p.x / MOONS_SCALE + MOONS_CENTER[0]
      const ry = p.y / MOONS_SCALE + MOONS_CENTER[1]
      if (p.label === 0) {
        expect(Math.hypot(rx, ry)).toBeCloseTo(1, 5)
        expect(ry).toBeGreaterThanOrEqual(-1e-6)
      } else {
        expect(Math.hypot(rx - 1, ry - 0.5)).toBeCloseTo(1, 5)
        expect(ry).toBeLessThanOrEqual(0.5 + 1e-6)
      }
    }
  })

  it('blobs: class means on a circle of radius 4', () => {
    const pts = points(generate('blobs', { n: 4000, classes: 4, seed: 4 }))
    for (let c = 0; c < 4; c++) {
      const cls = pts.filter((p) => p.label === c)
      const a = (2 * Math.PI * c) / 4
      expect(cls.reduce((s, p) => s + p.x, 0) / cls.length).toBeCloseTo(4 * Math.cos(a), 1)
      expect(cls.reduce((s, p) => s + p.y, 0) / cls.length).toBeCloseTo(4 * Math.sin(a), 1)
    }
  })

  it('reg-plane: target = (x1 + x2) / 10', () => {
    for (const p of points(generate('reg-plane', { n: 1000, seed: 4 }))) {
      expect(Math.abs(p.label - (p.x + p.y) / 10)).toBeLessThan(1e-5)
      expect(Math.max(Math.abs(p.x), Math.abs(p.y))).toBeLessThanOrEqual(6)
    }
  })

  it('reg-gauss: target = the signed bump largest in magnitude', () => {
    const pts = points(generate('reg-gauss', { n: 1000, seed: 4 }))
    for (const p of pts) expect(Math.abs(p.label - regGaussTarget(p.x, p.y))).toBeLessThan(1e-5)
    expect(regGaussTarget(-4, 2.5)).toBe(1)
    expect(regGaussTarget(0, 2.5)).toBe(-1)
    expect(regGaussTarget(1, -2.5)).toBeCloseTo(0.5)
    expect(regGaussTarget(2, 0)).toBe(0)
  })
})

describe('parameter errors name the parameter and the value', () => {
  it('rejects unknown names', () => {
    expectArgError(() => generate('donut'), 'unknown dataset "donut"', 'circle')
  })

  it('rejects bad n', () => {
    for (const n of [0, -5, 2.5, NaN, Infinity, MAX_SAMPLES + 1])
      expectArgError(() => generate('circle', { n }), 'n must be an integer', String(n))
    expectArgError(() => generate('blobs', { n: 2, classes: 3 }), 'n must be at least', '3', 'got 2')
    expect(generate('reg-plane', { n: 1 }).n).toBe(1)
  })

  it('rejects bad noise and seed', () => {
    for (const noise of [-0.1, 1.01, NaN]) expectArgError(() => generate('xor', { noise }), 'noise', String(noise))
    expect(generate('xor', { noise: 1 }).n).toBe(500)
    expectArgError(() => generate('xor', { seed: 0.5 }), 'seed', '0.5')
  })

  it('rejects bad classes', () => {
    for (const classes of [1, 11, 2.5]) expectArgError(() => generate('blobs', { classes }), 'classes', String(classes))
    expectArgError(() => generate('circle', { classes: 3 }), 'classes = 3', '"circle"')
    expect(generate('circle', { classes: 2 }).nClasses).toBe(2)
    expect(generate('spiral3', { classes: 2 }).task).toBe('multiclass')
  })
})
