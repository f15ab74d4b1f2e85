export { Optimizer, type OptimizerOptions, type OptimizerStateDict, type Params } from './optimizer.js'
export { SGD, Adam, AdamW, RMSprop, type SGDOptions, type AdamOptions, type RMSpropOptions } from './optimizers.js'
export { clipGradNorm } from './clip.js'
export { scheduledLr, type Schedule } from './schedule.js'
