// Public surface of the scalar (micrograd-style) engine used by the step-through teaching view.

export { Value, topoSort, type Origin } from './value'
export { backwardSteps, gradsAfter, type BackwardStep, type BackwardStepsOptions } from './backward-steps'
export { RULES, type Rule, type ScalarOp, type Operands } from './rules'
export { parseProgram, ExpressionError, MAX_PROGRAM_NODES, type Binding, type ParseOptions, type ScalarProgramGraph } from './expression'
export { SCALAR_PRESETS, type ScalarPreset } from './presets'
