// The "ours" columns: our engine on its CPU or WebGPU backend, driven the way the studio trains.
import { tensor, softmaxCrossEntropy, nn, optim, noGrad, setBackend, type Tensor } from '../src/engine/index.js'
import { measure, makeBatch, makeMatrix, MLPS, MATMUL_SIZES, type ColumnResult, type MlpSpec, type TimingOptions } from './common.js'

/** The CPU backend computes eagerly and reads synchronously; WebGPU results are awaited. */
async function sync(t: Tensor): Promise<number> {
  return t.backend.readSync ? t.dataSync()[0] : (await t.data())[0]
}

/**
 * A host yields to its event loop between steps (to take messages); on WebGPU that is also when
 * the finalizers run that return dead tensors' buffers to the pool.
 */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** `backend` 'webgpu' must already be registered (bench/webgpu.ts). */
export async function benchOurs(
  timing: TimingOptions,
  backend: 'cpu' | 'webgpu' = 'cpu',
  matmulSizes = MATMUL_SIZES,
): Promise<ColumnResult> {
  await setBackend(backend)
  const result: ColumnResult = { train: [], matmul: [] }
  for (const spec of MLPS) result.train.push(await benchTrain(spec, timing, backend))
  for (const n of matmulSizes) {
    const a = tensor(makeMatrix(n, 1), { shape: [n, n] })
    const b = tensor(makeMatrix(n, 2), { shape: [n, n] })
    result.matmul.push(
      await measure(async (k) => {
        for (let i = 0; i < k; i++) await sync(noGrad(() => a.matmul(b)))
      }, timing),
    )
  }
  await setBackend('cpu')
  return result
}

/** Training steps/s of one net on the current backend, and its last loss. */
export async function benchTrain(
  spec: MlpSpec,
  timing: TimingOptions,
  backend: 'cpu' | 'webgpu' = 'cpu',
): Promise<ColumnResult['train'][number]> {
  const { x: xs, labels } = makeBatch(spec)
  const model = new nn.MLP(spec.sizes, { activation: spec.activation, seed: 1, blocks: spec.blocks })
  // checkFinite off: the peers do not scan gradients either.
  const opt =
    spec.optimizer === 'adam'
      ? new optim.Adam(model.namedParameters(), { lr: spec.lr, checkFinite: false })
      : new optim.SGD(model.namedParameters(), { lr: spec.lr, checkFinite: false })
  const x = tensor(xs, { shape: [spec.batch, spec.sizes[0]] })
  let last = NaN
  const steps = await measure(async (n) => {
    let loss = null
    for (let i = 0; i < n; i++) {
      opt.zeroGrad()
      loss = softmaxCrossEntropy(model.forward(x), labels)
      loss.backward()
      opt.step()
      if (backend === 'webgpu') await tick()
    }
    // Reading the loss is the honest sync: on WebGPU it waits for every queued step.
    last = await sync(loss!)
  }, timing)
  return { steps, loss: last }
}
