// The engine's public surface: the only module the rest of the app imports from src/engine.
export { Tensor, isTensor, type TensorLike } from './tensor.js'
export { tensor, zeros, ones, full, randn, uniform, type TensorOptions, type RandomOptions, type NestedArray } from './creation.js'
export { noGrad, isGradEnabled } from './grad-mode.js'
export { backward, topoSort } from './autograd.js'
export {
  add, sub, mul, div, neg, pow, exp, log, sqrt, abs, relu, leakyRelu, tanh, sigmoid, gelu,
  matmul, transpose, reshape, expand, sum, mean, max, softmax, logSoftmax,
} from './ops/index.js'
export { mseLoss, softmaxCrossEntropy, bceWithLogits, hingeLoss, oneHot } from './losses.js'
export { gradcheck, type GradcheckResult } from './gradcheck.js'
export { EngineError, type EngineErrorCode } from './errors.js'
export { Rng, manualSeed, globalRng } from './rng.js'
export { setBackend, getBackend, registerBackend, type BackendChoice, type BackendInfo, type BackendName } from './backends/registry.js'
export type { Backend, DType, Shape, Storage, TypedArray } from './backends/backend.js'
export { Value, backwardSteps, topoSort as scalarTopoSort } from './scalar/index.js'
export * as nn from './nn/index.js'
export * as optim from './optim/index.js'
export * as data from './data/index.js'
