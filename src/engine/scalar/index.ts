// Public surface of the scalar (micrograd-style) engine used by the step-through teaching view.

export { Value, topoSort, type Origin } from './value'
export { backwardSteps, gradsAfter, type BackwardStep, type BackwardStepsOptions } from './backward-steps'
export { RULES, type Rule, type ScalarOp, type Operands } from './rules'
