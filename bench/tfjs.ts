// The TensorFlow.js columns: the same MLP built by hand from tf.variable + tf.matMul, trained
// with tf.train.sgd(...).minimize, on the 'cpu', 'wasm' and 'webgpu' backends of tfjs 4.22.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
// The full package, not tfjs-core: only it registers the gradients minimize() needs.
import * as tf from '@tensorflow/tfjs'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { measure, makeBatch, makeMatrix, MLPS, MATMUL_SIZES, type ColumnResult, type MlpSpec, type TimingOptions } from './common.js'

const require = createRequire(import.meta.url)
// In Node the wasm binaries are read from disk; the package's dist/ holds them.
setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/')

export const tfjsVersion = tf.version.tfjs

export type TfBackend = 'cpu' | 'wasm' | 'webgpu'

/**
 * tfjs-backend-webgpu registers itself on import only if navigator.gpu exists, so it is imported
 * after handing it `gpu`: the same Dawn instance our engine uses (one per process).
 */
export async function loadTfjsWebGpu(gpu: GPU): Promise<void> {
  ;(globalThis as { navigator?: unknown }).navigator = { gpu }
  await import('@tensorflow/tfjs-backend-webgpu')
}

export interface TfColumnResult extends ColumnResult {
  /** Tensors still alive after each measurement minus before: 0 means memory stayed flat. */
  leakedTensors: number
}

function buildMlp(spec: MlpSpec): tf.Variable[] {
  const vars: tf.Variable[] = []
  for (let i = 0; i + 1 < spec.sizes.length; i++) {
    // PyTorch's default Linear init, like ours, so the runs train the same kind of net.
    const bound = 1 / Math.sqrt(spec.sizes[i])
    // tidy frees the initial tensors; variables survive it (they hold their own reference).
    vars.push(tf.tidy(() => tf.variable(tf.randomUniform([spec.sizes[i], spec.sizes[i + 1]], -bound, bound, 'float32', 1 + i))))
    vars.push(tf.tidy(() => tf.variable(tf.randomUniform([spec.sizes[i + 1]], -bound, bound, 'float32', 101 + i))))
  }
  return vars
}

function forward(vars: tf.Variable[], x: tf.Tensor2D, act: MlpSpec['activation']): tf.Tensor2D {
  let h: tf.Tensor2D = x
  for (let i = 0; i < vars.length; i += 2) {
    h = tf.add(tf.matMul(h, vars[i]), vars[i + 1])
    if (i + 2 < vars.length) h = act === 'tanh' ? tf.tanh(h) : tf.relu(h)
  }
  return h
}

export async function benchTfjs(backend: TfBackend, timing: TimingOptions, matmulSizes = MATMUL_SIZES): Promise<TfColumnResult> {
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend "${backend}" failed to initialise`)
  await tf.ready()
  const result: TfColumnResult = { train: [], matmul: [], leakedTensors: 0 }
  const track = async (fn: () => Promise<void>): Promise<void> => {
    const before = tf.memory().numTensors
    await fn()
    result.leakedTensors += tf.memory().numTensors - before
  }

  for (const spec of MLPS) {
    await track(async () => {
      const { x: xs, labels } = makeBatch(spec)
      const classes = spec.sizes[spec.sizes.length - 1]
      const x = tf.tensor2d(xs, [spec.batch, spec.sizes[0]])
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat())
      const vars = buildMlp(spec)
      const opt = tf.train.sgd(spec.lr)
      // Mean over the batch, as ours and torch's cross_entropy.
      const lossFn = (): tf.Scalar => tf.losses.softmaxCrossEntropy(y, forward(vars, x, spec.activation)) as tf.Scalar
      let last = NaN
      const steps = await measure(async (n) => {
        let cost: tf.Scalar | null = null
        for (let i = 0; i < n; i++) {
          cost?.dispose()
          // minimize runs the step inside its own tidy; only the returned cost survives.
          cost = opt.minimize(lossFn, true, vars)
        }
        last = (await cost!.data())[0]
        cost!.dispose()
      }, timing)
      result.train.push({ steps, loss: last })
      opt.dispose()
      tf.dispose([x, y, ...vars])
    })
  }

  for (const n of matmulSizes) {
    await track(async () => {
      const a = tf.tensor2d(makeMatrix(n, 1), [n, n])
      const b = tf.tensor2d(makeMatrix(n, 2), [n, n])
      result.matmul.push(
        await measure(async (k) => {
          for (let i = 0; i < k; i++) {
            const c = tf.matMul(a, b)
            await c.data()
            c.dispose()
          }
        }, timing),
      )
      tf.dispose([a, b])
    })
  }
  return result
}
