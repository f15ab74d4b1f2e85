// The chained methods of Tensor (t.add(b), t.matmul(w), loss.backward()), attached in this one
// module as tfjs's chained ops are: tensor.ts then imports no op, and ops and autograd import
// tensor.ts without an import cycle. Loaded by the modules that make tensors (creation, nn,
// losses, gradcheck) and by the engine's index, so every tensor a caller can hold has them.
import { backward as runBackward, type BackwardOptions } from './autograd.js'
import * as ops from './ops/index.js'
import { Tensor, type TensorLike } from './tensor.js'

type Axis = number | readonly number[]

declare module './tensor.js' {
  interface Tensor {
    /** Backpropagate from this tensor (a scalar, unless `grad` is given); see autograd.ts. */
    backward(grad?: Tensor, options?: BackwardOptions): void
    add(b: TensorLike): Tensor
    sub(b: TensorLike): Tensor
    mul(b: TensorLike): Tensor
    div(b: TensorLike): Tensor
    pow(b: TensorLike): Tensor
    neg(): Tensor
    exp(): Tensor
    log(): Tensor
    sqrt(): Tensor
    abs(): Tensor
    sign(): Tensor
    relu(): Tensor
    leakyRelu(alpha?: number): Tensor
    tanh(): Tensor
    sigmoid(): Tensor
    gelu(): Tensor
    matmul(b: Tensor): Tensor
    transpose(): Tensor
    reshape(shape: readonly number[]): Tensor
    expand(shape: readonly number[]): Tensor
    sum(axis?: Axis, keepDims?: boolean): Tensor
    mean(axis?: Axis, keepDims?: boolean): Tensor
    max(axis?: Axis, keepDims?: boolean): Tensor
    softmax(axis?: number): Tensor
    logSoftmax(axis?: number): Tensor
  }
}

const methods: ThisType<Tensor> & Partial<Tensor> = {
  backward(grad?: Tensor, options?: BackwardOptions) {
    runBackward(this, grad, options)
  },
  add(b: TensorLike) {
    return ops.add(this, b)
  },
  sub(b: TensorLike) {
    return ops.sub(this, b)
  },
  mul(b: TensorLike) {
    return ops.mul(this, b)
  },
  div(b: TensorLike) {
    return ops.div(this, b)
  },
  pow(b: TensorLike) {
    return ops.pow(this, b)
  },
  neg() {
    return ops.neg(this)
  },
  exp() {
    return ops.exp(this)
  },
  log() {
    return ops.log(this)
  },
  sqrt() {
    return ops.sqrt(this)
  },
  abs() {
    return ops.abs(this)
  },
  sign() {
    return ops.sign(this)
  },
  relu() {
    return ops.relu(this)
  },
  leakyRelu(alpha = 0.01) {
    return ops.leakyRelu(this, alpha)
  },
  tanh() {
    return ops.tanh(this)
  },
  sigmoid() {
    return ops.sigmoid(this)
  },
  gelu() {
    return ops.gelu(this)
  },
  matmul(b: Tensor) {
    return ops.matmul(this, b)
  },
  transpose() {
    return ops.transpose(this)
  },
  reshape(shape: readonly number[]) {
    return ops.reshape(this, shape)
  },
  expand(shape: readonly number[]) {
    return ops.expand(this, shape)
  },
  sum(axis?: Axis, keepDims = false) {
    return ops.sum(this, axis, keepDims)
  },
  mean(axis?: Axis, keepDims = false) {
    return ops.mean(this, axis, keepDims)
  },
  max(axis?: Axis, keepDims = false) {
    return ops.max(this, axis, keepDims)
  },
  softmax(axis = -1) {
    return ops.softmax(this, axis)
  },
  logSoftmax(axis = -1) {
    return ops.logSoftmax(this, axis)
  },
}

// Non-enumerable, as class methods are, so spreading or logging a tensor shows only its data.
for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false })
}
