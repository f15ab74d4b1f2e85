// Every op the frontend offers. Primitives (own backward rule) are in one file each; composites
// in composite.ts.
export { add } from './add.js'
export { mul } from './mul.js'
export { pow, log } from './pow.js'
export { exp } from './exp.js'
export { relu, leakyRelu } from './relu.js'
export { tanh } from './tanh.js'
export { sigmoid } from './sigmoid.js'
export { gelu } from './gelu.js'
export { matmul } from './matmul.js'
export { transpose, reshape } from './shape-ops.js'
export { sum, max, sumToShape, expand } from './reduce.js'
export { neg, sub, div, sqrt, abs, mean, logSoftmax, softmax } from './composite.js'
