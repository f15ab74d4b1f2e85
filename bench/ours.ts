// The "ours" column: our engine on its CPU backend, driven the way the studio trains.
import { tensor, softmaxCrossEntropy, nn, optim, noGrad, setBackend } from '../src/engine/index.js'
import { measure, makeBatch, makeMatrix, MLPS, MATMUL_SIZES, type ColumnResult, type TimingOptions } from './common.js'

export async function benchOurs(timing: TimingOptions): Promise<ColumnResult> {
  await setBackend('cpu')
  const result: ColumnResult = { train: [], matmul: [] }
  for (const spec of MLPS) {
    const { x: xs, labels } = makeBatch(spec)
    const model = new nn.MLP(spec.sizes, { activation: spec.activation, seed: 1 })
    // checkFinite off: the peers do not scan gradients either.
    const opt = new optim.SGD(model.namedParameters(), { lr: spec.lr, checkFinite: false })
    const x = tensor(xs, { shape: [spec.batch, spec.sizes[0]] })
    let last = NaN
    const steps = await measure((n) => {
      let loss = null
      for (let i = 0; i < n; i++) {
        opt.zeroGrad()
        loss = softmaxCrossEntropy(model.forward(x), labels)
        loss.backward()
        opt.step()
      }
      // The CPU backend computes eagerly; reading the loss is the honest sync anyway.
      last = loss!.dataSync()[0]
    }, timing)
    result.train.push({ steps, loss: last })
  }
  for (const n of MATMUL_SIZES) {
    const a = tensor(makeMatrix(n, 1), { shape: [n, n] })
    const b = tensor(makeMatrix(n, 2), { shape: [n, n] })
    result.matmul.push(await measure((k) => {
      noGrad(() => {
        for (let i = 0; i < k; i++) a.matmul(b).dataSync()
      })
    }, timing))
  }
  return result
}
