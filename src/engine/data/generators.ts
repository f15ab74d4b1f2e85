// Seeded 2-D toy datasets. The six Playground sets follow tensorflow/playground src/dataset.ts
// point for point (same shapes, ranges, noise model and RNG draw order), with two deliberate
// differences: labels are {0,1} instead of {-1,+1}, and an odd n gives exactly n points (Playground
// makes numSamples/2 per class, i.e. n+1 points for odd n). Rows are shuffled at the end, as
// Playground does before splitting, so row order carries no label information.

import { EngineError } from '../errors.js'
import { Rng } from '../rng.js'
import { type Dataset, type Task, validateDataset } from './dataset.js'

export type GeneratorName = 'circle' | 'xor' | 'gauss' | 'spiral' | 'moons' | 'spiral3' | 'blobs' | 'reg-plane' | 'reg-gauss'

export interface GenerateOptions {
  /** Number of points, integer in [1, MAX_SAMPLES] (at least the class count). Default 500. */
  n?: number
  /** Noise level in [0, 1]; Playground's slider covers [0, 0.5]. Default 0. */
  noise?: number
  /** Integer seed; the same seed gives bit-identical data. Default 0. */
  seed?: number
  /** Class count, only for the multi-class generators (see classesRange). */
  classes?: number
}

export interface GeneratorInfo {
  name: GeneratorName
  /** Human-readable name for the UI. */
  label: string
  task: Task
  /** Class count with default options (0 for regression). */
  nClasses: number
  defaults: { n: number; noise: number; classes?: number }
  /** Allowed `classes` for the multi-class generators, inclusive. */
  classesRange?: [number, number]
  description: string
}

/** Upper bound on n: a million 2-D points is already ~8 MB and far beyond what the UI can plot. */
export const MAX_SAMPLES = 1_000_000

/** Pushes points into preallocated columns; one per generate() call. */
class Sink {
  readonly x: Float32Array
  readonly y: Float32Array
  private i = 0
  constructor(readonly n: number) {
    this.x = new Float32Array(n * 2)
    this.y = new Float32Array(n)
  }
  push(x1: number, x2: number, label: number): void {
    this.x[2 * this.i] = x1
    this.x[2 * this.i + 1] = x2
    this.y[this.i++] = label
  }
}

type Fill = (sink: Sink, noise: number, rng: Rng, classes: number) => void

const TWO_PI = 2 * Math.PI

/** Sizes of k classes that sum to n, as even as possible (earlier classes get the extra point). */
function classSizes(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, c) => Math.floor(n / k) + (c < n % k ? 1 : 0))
}

/** Playground's two-Gaussian spread: variance maps linearly [0, 0.5] → [0.5, 4] (extrapolated above). */
function gaussStd(noise: number): number {
  return Math.sqrt(0.5 + 7 * noise)
}

// Playground classifyCircleData: positives uniform in radius [0, 2.5], negatives in [3.5, 5];
// the label is re-evaluated at the noise-shifted position, so noise flips points near the rim.
const circle: Fill = (sink, noise, rng) => {
  const radius = 5
  const label = (x: number, y: number): number => (Math.hypot(x, y) < radius * 0.5 ? 1 : 0)
  const [nPos, nNeg] = classSizes(sink.n, 2)
  const ring = (count: number, rMin: number, rMax: number): void => {
    for (let i = 0; i < count; i++) {
      const r = rng.uniform(rMin, rMax)
      const angle = rng.uniform(0, TWO_PI)
      const x = r * Math.sin(angle)
      const y = r * Math.cos(angle)
      const nx = rng.uniform(-radius, radius) * noise
      const ny = rng.uniform(-radius, radius) * noise
      sink.push(x, y, label(x + nx, y + ny))
    }
  }
  ring(nPos, 0, radius * 0.5)
  ring(nNeg, radius * 0.7, radius)
}

// Playground classifyXORData: uniform in [-5, 5]² pushed 0.3 away from the axes; label 1 when
// x·y ≥ 0 (quadrants I and III) at the noise-shifted position.
const xor: Fill = (sink, noise, rng) => {
  const padding = 0.3
  for (let i = 0; i < sink.n; i++) {
    let x = rng.uniform(-5, 5)
    x += x > 0 ? padding : -padding
    let y = rng.uniform(-5, 5)
    y += y > 0 ? padding : -padding
    const nx = rng.uniform(-5, 5) * noise
    const ny = rng.uniform(-5, 5) * noise
    sink.push(x, y, (x + nx) * (y + ny) >= 0 ? 1 : 0)
  }
}

// Playground classifyTwoGaussData: label 1 around (2, 2), label 0 around (-2, -2).
const gauss: Fill = (sink, noise, rng) => {
  const std = gaussStd(noise)
  const [nPos, nNeg] = classSizes(sink.n, 2)
  for (let i = 0; i < nPos; i++) sink.push(rng.normal(2, std), rng.normal(2, std), 1)
  for (let i = 0; i < nNeg; i++) sink.push(rng.normal(-2, std), rng.normal(-2, std), 0)
}

/** One Playground spiral arm: radius grows 0 → 5 over 1.75 turns, uniform ±noise jitter. */
function spiralArm(sink: Sink, count: number, deltaT: number, label: number, noise: number, rng: Rng): void {
  for (let i = 0; i < count; i++) {
    const r = (i / count) * 5
    const t = ((1.75 * i) / count) * TWO_PI + deltaT
    const x = r * Math.sin(t) + rng.uniform(-1, 1) * noise
    const y = r * Math.cos(t) + rng.uniform(-1, 1) * noise
    sink.push(x, y, label)
  }
}

// Playground classifySpiralData: label 1 is the arm at phase 0, label 0 the arm at phase π.
const spiral: Fill = (sink, noise, rng) => {
  const [nPos, nNeg] = classSizes(sink.n, 2)
  spiralArm(sink, nPos, 0, 1, noise, rng)
  spiralArm(sink, nNeg, Math.PI, 0, noise, rng)
}

// k Playground-style arms, class c at phase 2πc/k: the multi-class set for softmax.
const spiralK: Fill = (sink, noise, rng, k) => {
  classSizes(sink.n, k).forEach((count, c) => spiralArm(sink, count, (TWO_PI * c) / k, c, noise, rng))
}

// k Gaussian blobs on a circle of radius 4, with the same spread as `gauss`.
const blobs: Fill = (sink, noise, rng, k) => {
  const std = gaussStd(noise)
  classSizes(sink.n, k).forEach((count, c) => {
    const a = (TWO_PI * c) / k
    const cx = 4 * Math.cos(a)
    const cy = 4 * Math.sin(a)
    for (let i = 0; i < count; i++) sink.push(rng.normal(cx, std), rng.normal(cy, std), c)
  })
}

/** Scale and centre for moons: sklearn's box [-1, 2] × [-0.5, 1] maps to about [-5.3, 5.3] × [-2.6, 2.6]. */
export const MOONS_SCALE = 3.5
export const MOONS_CENTER: readonly [number, number] = [0.5, 0.25]

// sklearn.datasets.make_moons: evenly spaced angles on two half circles, Gaussian noise of std
// `noise` (in sklearn's units) added to the coordinates; labels never flip. Class 0 is the upper moon.
const moons: Fill = (sink, noise, rng) => {
  const [nOut, nIn] = classSizes(sink.n, 2)
  const put = (rx: number, ry: number, label: number): void => {
    const px = rx + (noise > 0 ? rng.normal(0, noise) : 0)
    const py = ry + (noise > 0 ? rng.normal(0, noise) : 0)
    sink.push((px - MOONS_CENTER[0]) * MOONS_SCALE, (py - MOONS_CENTER[1]) * MOONS_SCALE, label)
  }
  const angle = (i: number, m: number): number => (m > 1 ? (Math.PI * i) / (m - 1) : 0)
  for (let i = 0; i < nOut; i++) put(Math.cos(angle(i, nOut)), Math.sin(angle(i, nOut)), 0)
  for (let i = 0; i < nIn; i++) put(1 - Math.cos(angle(i, nIn)), 0.5 - Math.sin(angle(i, nIn)), 1)
}

/** Playground's regression sampling: inputs uniform in [-6, 6]², the target read at the noise-shifted position. */
function regression(target: (x: number, y: number) => number): Fill {
  return (sink, noise, rng) => {
    const radius = 6
    for (let i = 0; i < sink.n; i++) {
      const x = rng.uniform(-radius, radius)
      const y = rng.uniform(-radius, radius)
      const nx = rng.uniform(-radius, radius) * noise
      const ny = rng.uniform(-radius, radius) * noise
      sink.push(x, y, target(x + nx, y + ny))
    }
  }
}

// Playground regressPlane: target (x + y) / 10.
const regPlane: Fill = regression(regPlaneTarget)

export function regPlaneTarget(x: number, y: number): number {
  return (x + y) / 10
}

const REG_GAUSSIANS: readonly (readonly [number, number, number])[] = [
  [-4, 2.5, 1],
  [0, 2.5, -1],
  [4, 2.5, 1],
  [-4, -2.5, -1],
  [0, -2.5, 1],
  [4, -2.5, -1],
]

/** Playground regressGaussian's label: the signed bump (1 at a centre, 0 beyond distance 2) largest in |value|. */
export function regGaussTarget(x: number, y: number): number {
  let label = 0
  for (const [cx, cy, sign] of REG_GAUSSIANS) {
    const d = Math.hypot(x - cx, y - cy)
    const v = sign * Math.min(1, Math.max(0, 1 - d / 2))
    if (Math.abs(v) > Math.abs(label)) label = v
  }
  return label
}

const regGauss: Fill = regression(regGaussTarget)

interface Entry extends GeneratorInfo {
  fill: Fill
}

const bin = (name: GeneratorName, label: string, fill: Fill, description: string): Entry => ({
  name,
  label,
  task: 'binary',
  nClasses: 2,
  defaults: { n: 500, noise: 0 },
  fill,
  description,
})
const multi = (name: GeneratorName, label: string, fill: Fill, description: string): Entry => ({
  name,
  label,
  task: 'multiclass',
  nClasses: 3,
  defaults: { n: 500, noise: 0, classes: 3 },
  classesRange: [2, 10],
  fill,
  description,
})
const reg = (name: GeneratorName, label: string, fill: Fill, description: string): Entry => ({
  name,
  label,
  task: 'regression',
  nClasses: 0,
  defaults: { n: 500, noise: 0 },
  fill,
  description,
})

const REGISTRY: readonly Entry[] = [
  bin('circle', 'Circle', circle, 'A disc of class 1 inside a ring of class 0 (Playground).'),
  bin('xor', 'Exclusive or', xor, 'Class 1 where x1·x2 ≥ 0, class 0 in the other two quadrants (Playground).'),
  bin('gauss', 'Gaussian', gauss, 'Two Gaussian clusters at (2, 2) and (-2, -2) (Playground).'),
  bin('spiral', 'Spiral', spiral, 'Two interleaved spiral arms (Playground).'),
  bin('moons', 'Moons', moons, 'Two interleaving half circles, like sklearn make_moons.'),
  multi('spiral3', 'Spiral, k arms', spiralK, 'k interleaved spiral arms, one class each.'),
  multi('blobs', 'Blobs', blobs, 'k Gaussian clusters on a circle, one class each.'),
  reg('reg-plane', 'Plane', regPlane, 'Target (x1 + x2) / 10 (Playground).'),
  reg('reg-gauss', 'Multi Gaussian', regGauss, 'Six signed bumps on a 3 × 2 grid (Playground).'),
]

/** The generators, for the UI's dataset picker (copies; mutating them changes nothing). */
export function listGenerators(): GeneratorInfo[] {
  return REGISTRY.map(({ fill: _fill, defaults, classesRange, ...info }) => ({
    ...info,
    defaults: { ...defaults },
    ...(classesRange ? { classesRange: [classesRange[0], classesRange[1]] as [number, number] } : {}),
  }))
}

/** Generates a dataset by registry name; throws EngineError (code 'argument') on bad input. */
export function generate(name: GeneratorName | (string & {}), opts: GenerateOptions = {}): Dataset {
  const op = 'generate'
  const bad = (msg: string): never => {
    throw new EngineError(op, 'argument', msg)
  }
  const entry = REGISTRY.find((e) => e.name === name)
  if (!entry) return bad(`unknown dataset "${name}"; expected one of ${REGISTRY.map((e) => e.name).join(', ')}`)
  const { n = entry.defaults.n, noise = entry.defaults.noise, seed = 0 } = opts
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_SAMPLES)
    bad(`n must be an integer in [1, ${MAX_SAMPLES}], got ${n}`)
  if (typeof noise !== 'number' || !Number.isFinite(noise) || noise < 0 || noise > 1) bad(`noise must be a number in [0, 1], got ${noise}`)
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) bad(`seed must be an integer, got ${seed}`)

  let classes = entry.nClasses
  if (entry.classesRange) {
    const [lo, hi] = entry.classesRange
    classes = opts.classes ?? entry.defaults.classes ?? lo
    if (typeof classes !== 'number' || !Number.isInteger(classes) || classes < lo || classes > hi)
      bad(`classes must be an integer in [${lo}, ${hi}] for "${name}", got ${classes}`)
  } else if (opts.classes !== undefined && opts.classes !== entry.nClasses) {
    bad(`classes = ${opts.classes} is not supported by "${name}", which has ${entry.nClasses || 'no'} classes`)
  }
  // Every class must have at least one point, or losses and split stratification see a phantom class.
  if (n < classes) bad(`n must be at least the class count ${classes} for "${name}", got ${n}`)

  const rng = new Rng(seed)
  const sink = new Sink(n)
  entry.fill(sink, noise, rng, classes)

  // Shuffle rows (the generators emit class by class).
  const perm = rng.shuffle(Uint32Array.from({ length: n }, (_, i) => i))
  const x = new Float32Array(n * 2)
  const y = new Float32Array(n)
  for (let k = 0; k < n; k++) {
    const i = perm[k]
    x[2 * k] = sink.x[2 * i]
    x[2 * k + 1] = sink.x[2 * i + 1]
    y[k] = sink.y[i]
  }
  const ds: Dataset = {
    name: entry.name,
    task: entry.task,
    x,
    y,
    n,
    nFeatures: 2,
    nClasses: classes,
    featureNames: ['x1', 'x2'],
    ...(classes > 0 ? { classNames: Array.from({ length: classes }, (_, c) => `class ${c}`) } : {}),
  }
  validateDataset(ds)
  return ds
}
