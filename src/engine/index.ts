// The engine's public surface: the only module the rest of the app imports from src/engine.
import './chained-ops.js' // Tensor's chained methods (t.add(), t.backward())
export { Tensor, isTensor, type TensorLike, type OpMeta } from './tensor.js'
export { tensor, zeros, ones, full, randn, uniform, type TensorOptions, type RandomOptions, type NestedArray } from './creation.js'
export { noGrad, isGradEnabled } from './grad-mode.js'
export { backward, backwardInPieces, topoSort, type BackwardOptions, type BackwardPieces } from './autograd.js'
export {
  graphSnapshot,
  graphSnapshotInPieces,
  tensorStats,
  type GraphSnapshot,
  type GraphSnapshotNode,
  type GraphSnapshotEdge,
  type GraphSnapshotOptions,
  type GraphNodeKind,
  type GraphGroup,
  type TensorStats,
} from './graph-snapshot.js'
export {
  add,
  sub,
  mul,
  div,
  neg,
  pow,
  exp,
  log,
  sqrt,
  abs,
  sign,
  relu,
  leakyRelu,
  tanh,
  sigmoid,
  gelu,
  matmul,
  transpose,
  reshape,
  expand,
  sum,
  mean,
  max,
  softmax,
  logSoftmax,
} from './ops/index.js'
export { mseLoss, huberLoss, softmaxCrossEntropy, bceWithLogits, hingeLoss, oneHot } from './losses.js'
export { gradcheck, type GradcheckResult } from './gradcheck.js'
export { EngineError, type EngineErrorCode } from './errors.js'
export { Rng, manualSeed, globalRng, type RngState } from './rng.js'
export {
  backends,
  setBackend,
  getBackend,
  registerBackend,
  type BackendChoice,
  type BackendInfo,
  type BackendName,
  type ResolvedBackend,
} from './backends/registry.js'
export type { Backend, DType, Shape, Storage, TypedArray } from './backends/backend.js'
export {
  registerWebGpu,
  createWebGpuBackend,
  webGpuFactory,
  isSoftwareAdapter,
  WebGpuBackend,
  type WebGpuOptions,
  type WebGpuSource,
  type PoolStats,
} from './backends/webgpu/index.js'
export {
  Value,
  backwardSteps,
  gradsAfter,
  topoSort as scalarTopoSort,
  parseProgram,
  ExpressionError,
  MAX_PROGRAM_NODES,
  SCALAR_PRESETS,
  type BackwardStep,
  type ScalarProgramGraph,
  type ScalarPreset,
} from './scalar/index.js'
export * as nn from './nn/index.js'
export * as optim from './optim/index.js'
export * as data from './data/index.js'
export {
  encodeSafetensors,
  safetensorsParts,
  decodeSafetensors,
  parseSafetensorsHeader,
  safetensorsHeaderLength,
  safetensorsTarget,
  safetensorsFill,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafeTensor,
  type SafetensorsFile,
  type SafetensorsDtype,
} from './io/safetensors.js'
