export { Module, Linear, MLP, type LinearOptions, type MLPOptions, type CloneOptions } from './module.js'
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
