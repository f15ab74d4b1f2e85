export { Module, Linear, MLP, type LinearOptions, type MLPOptions, type CloneOptions } from './module.js'
export { ACTIVATIONS, activate, type Activation } from './activations.js'
export { INITIALIZERS, initWeights, type Initializer } from './init.js'
