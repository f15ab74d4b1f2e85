export { Module, Linear, type LinearOptions, type CloneOptions } from './module.js'
export {
  MLP,
  NORM_KINDS,
  NORM_PLACES,
  normWidth,
  type MLPOptions,
  type Block,
  type NormKind,
  type NormPlace,
  type Norm,
  type LayerOutput,
} from './mlp.js'
export {
  LayerNorm,
  BatchNorm1d,
  layerNorm,
  batchNorm,
  type NormOptions,
  type LayerNormOptions,
  type BatchNorm1dOptions,
  type BatchNormOptions,
} from './normalization.js'
export { Dropout, dropout, dropoutMask, type DropoutOptions } from './dropout.js'
export { ACTIVATIONS, activate, type Activation } from './activations.js'
export { INITIALIZERS, initWeights, type Initializer } from './init.js'
