// Public surface of the data layer: datasets as typed arrays, generators, batching, features and
// IDX (MNIST-format) and CSV import.

export type { Dataset, SplitOptions, Task } from './dataset.js'
export { classCounts, isClassification, subset, trainTestSplit, validateDataset } from './dataset.js'
export type { GenerateOptions, GeneratorInfo, GeneratorName } from './generators.js'
export { generate, listGenerators, MAX_SAMPLES, MOONS_CENTER, MOONS_SCALE, regGaussTarget, regPlaneTarget } from './generators.js'
export type { Batch, BatchOptions, SampledBatch, SamplerState } from './batching.js'
export { BatchSampler, batches, checkBatchSize } from './batching.js'
export type { FeatureInfo, FeatureName, Standardization } from './features.js'
export {
  applyStandardization,
  featurize,
  featurizeRows,
  fitStandardization,
  listFeatures,
  standardize,
  standardizeRows,
} from './features.js'
export type { IdxArray, IdxData, IdxDatasetOptions, IdxDtype } from './idx.js'
export { IDX_TYPES, idxDataset, MAX_IDX_CLASSES, MAX_IDX_ELEMENTS, parseIdx } from './idx.js'
export type { CsvColumnInfo, CsvDatasetOptions, CsvLimits } from './csv.js'
export {
  AUTO_CLASS_MAX,
  CSV_DICT_CAP,
  csvDataset,
  csvNumber,
  CsvReader,
  CsvTable,
  describeColumns,
  DISTINCT_CAP,
  MAX_CSV_CLASSES,
  MAX_ONE_HOT,
  parseCsv,
} from './csv.js'
