// Activation functions by name, as the model editor and the protocol spell them.
import { EngineError } from '../errors.js'
import type { Tensor } from '../tensor.js'
import { gelu, leakyRelu, relu, sigmoid, tanh } from '../ops/index.js'

export const ACTIVATIONS = ['relu', 'leakyRelu', 'tanh', 'sigmoid', 'gelu', 'linear'] as const
export type Activation = (typeof ACTIVATIONS)[number]

export function activate(x: Tensor, name: Activation): Tensor {
  switch (name) {
    case 'relu':
      return relu(x)
    case 'leakyRelu':
      return leakyRelu(x, 0.01)
    case 'tanh':
      return tanh(x)
    case 'sigmoid':
      return sigmoid(x)
    case 'gelu':
      return gelu(x)
    case 'linear':
      return x
    default:
      throw new EngineError('activate', 'argument', `unknown activation "${String(name)}"`)
  }
}
