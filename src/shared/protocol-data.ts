// Protocol messages for where a session's data comes from: the built-in generators, the bundled
// real datasets, and the user's own files (CSV tables, IDX image/label pairs). Files cross the
// process boundary in chunks (serve mode caps a frame at 1 MiB), are checked and stored by the
// host in its data directory under a content id, and are then referred to by that id, so a run's
// spec names exactly the bytes it was trained on.
import { z } from 'zod'
import { GENERATOR_CLASS_RANGE } from './model-rules'

export const GENERATOR_NAMES = ['circle', 'xor', 'gauss', 'spiral', 'moons', 'spiral3', 'blobs', 'reg-plane', 'reg-gauss'] as const
export const FEATURE_NAMES = ['x1', 'x2', 'x1sq', 'x2sq', 'x1x2', 'sinx1', 'sinx2'] as const
/** Real datasets shipped in resources/datasets (attribution in resources/datasets/README.md). */
export const BUNDLED_DATASETS = ['iris', 'wine', 'breast-cancer', 'digits'] as const
export const TASKS = ['binary', 'multiclass', 'regression'] as const

export const DATA_LIMITS = {
  maxSamples: 100_000,
  /** Largest file a user can bring (Fashion-MNIST's training images are 47 MB). */
  maxUploadBytes: 64 * 1024 * 1024,
  /** Bytes per upload chunk: with its small header, well under serve mode's 1 MiB frame. */
  maxChunkBytes: 768 * 1024,
  /** Base64 characters per chunk for clients that send text (scripts): 512 KiB of file. */
  maxChunkChars: 700_000,
  maxChunks: 200,
  maxColumns: 4096,
  /** Rows × columns of a CSV file (kept compactly: about 6 bytes a cell while it is in use). */
  maxCells: 16_000_000,
} as const

const finite = z.number().refine(Number.isFinite, 'must be a finite number')
const seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1)
const testRatio = finite.check(z.gte(0), z.lte(0.9)).default(0.3)
/** Content id of a stored file: 'f' + the first 16 hex digits of its SHA-256. */
export const FileId = z.string().regex(/^f[0-9a-f]{16}$/, 'is not a file id')
/** Chosen by the client for one upload: 'u' + 6–32 of [0-9a-z]. */
export const UploadId = z.string().regex(/^u[0-9a-z]{6,32}$/, 'is not an upload id')
const columnName = z.string().min(1).max(256)
/** Most class names a spec may carry (the confusion matrix and sample grid are drawn up to 100 classes). */
export const MAX_CLASS_NAMES = 256
/** Names of the classes by label, as the user edited them (shown in the sample grid, predictions, confusion matrix). */
export const ClassNames = z.array(z.string().trim().min(1).max(64)).min(1).max(MAX_CLASS_NAMES)
/** [height, width] of the images a row of pixels stands for (row-major, one channel). */
export const ImageShape = z.tuple([z.number().int().min(1).max(4096), z.number().int().min(1).max(4096)])

// ---------------------------------------------------------------------------------------------
// Data specs: one variant per source. `source` may be left out for a generator (older runs).

export const GeneratorData = z.strictObject({
  source: z.literal('generator').optional(),
  generator: z.enum(GENERATOR_NAMES),
  n: z.number().int().min(10).max(DATA_LIMITS.maxSamples).default(500),
  noise: finite.check(z.gte(0), z.lte(1)).default(0),
  testRatio,
  seed: seed.default(0),
  classes: z.number().int().min(GENERATOR_CLASS_RANGE.min).max(GENERATOR_CLASS_RANGE.max).optional(),
  features: z.array(z.enum(FEATURE_NAMES)).min(1).max(FEATURE_NAMES.length).default(['x1', 'x2']),
})

export const BundledData = z.strictObject({
  source: z.literal('bundled'),
  name: z.enum(BUNDLED_DATASETS),
  testRatio,
  seed: seed.default(0),
  /** Standardise each feature with the training split's mean and standard deviation. */
  standardize: z.boolean().default(true) /**
   * Regression: train on the target standardised with the training split's mean and standard
   * deviation; losses, metrics, predictions and exports stay in the target's own units. Runs and
   * links from before this option read as false (they trained on the raw target).
   */,
  standardizeTarget: z.boolean().default(true),
})

export const CsvData = z.strictObject({
  source: z.literal('csv'),
  fileId: FileId,
  target: columnName,
  /** Feature columns in order; default: every other column that is numeric. */
  features: z.array(columnName).min(1).max(DATA_LIMITS.maxColumns).optional(),
  /** 'auto': a numeric target with many distinct values is regression; text or few integers are classes. */
  task: z.enum(['auto', ...TASKS]).default('auto'),
  standardize: z.boolean().default(true),
  /**
   * Regression: train on the target standardised with the training split's mean and standard
   * deviation; losses, metrics, predictions and exports stay in the target's own units. Runs and
   * links from before this option read as false (they trained on the raw target).
   */
  standardizeTarget: z.boolean().default(true),
  testRatio,
  seed: seed.default(0),
  /** The feature columns are the pixels of one H×W image (row-major): preview and saliency draw them as images. */
  imageShape: ImageShape.optional(),
})

export const IdxData = z.strictObject({
  source: z.literal('idx'),
  imagesFileId: FileId,
  labelsFileId: FileId,
  /** Use the first `limit` examples (a 60,000-image file trains slowly on a laptop CPU). */
  limit: z.number().int().min(10).max(DATA_LIMITS.maxSamples).default(10_000),
  /** Divide pixel values by 255. */
  scale: z.boolean().default(true),
  testRatio,
  seed: seed.default(0),
  /**
   * A second images/labels pair (e.g. t10k) that is the test split (its first `limit` examples)
   * instead of `testRatio` of the training files. Both or neither.
   */
  testImagesFileId: FileId.optional(),
  testLabelsFileId: FileId.optional(),
  /** Names of the classes by label; default: known names when the files look like Fashion-MNIST, else the labels. */
  classNames: ClassNames.optional(),
})

export const DataSpec = z.discriminatedUnion('source', [GeneratorData, BundledData, CsvData, IdxData])

// ---------------------------------------------------------------------------------------------
// Previews and stored files

/** Most bytes of sample pixels a preview carries (the renderer never gets the whole dataset). */
export const PREVIEW_IMAGE_BYTES = 96 * 1024
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'is not base64')

/** A few training images per class and the training rows' pixel mean, for image-shaped data. */
export const ImagePreview = z.strictObject({
  height: z.number().int().min(1),
  width: z.number().int().min(1),
  /** Class of each sample, grouped by class (up to perClass of each, fewer when a class has fewer rows). */
  labels: z.array(z.number().int().min(0)),
  perClass: z.number().int().min(1),
  /** labels.length images of height×width bytes, row-major, base64: byte b stands for lo + (hi − lo)·b/255. */
  pixels: base64.max(Math.ceil(PREVIEW_IMAGE_BYTES / 3) * 4),
  range: z.tuple([z.number(), z.number()]),
  /** The mean image of the training rows, bytes over its own range. */
  mean: base64,
  meanRange: z.tuple([z.number(), z.number()]),
})

/** Class names a known dataset has, offered when the files look like it. */
export const KNOWN_CLASS_SETS = ['fashion-mnist', 'mnist'] as const

export const DatasetPreview = z.strictObject({
  task: z.enum(TASKS),
  nClasses: z.number().int(),
  /** Raw 2-D points (first two raw columns) interleaved, sampled, for the scatter preview. */
  points: z.array(z.number()),
  labels: z.array(z.number()),
  /** Whether each previewed point is in the test split (same order as labels). */
  isTest: z.array(z.boolean()),
  trainCount: z.number().int(),
  testCount: z.number().int(),
  /** Columns the model sees, after featurisation. */
  featureNames: z.array(z.string()),
  /** Names of the two raw columns in `points`. */
  axisNames: z.tuple([z.string(), z.string()]),
  classNames: z.array(z.string()).nullable(),
  targetName: z.string(),
  /** True when the raw inputs are 2-D, so a decision boundary can be drawn over them. */
  planar: z.boolean(),
  /** Where the data comes from, for the UI (licence/attribution for bundled sets). */
  description: z.string(),
  /** Sample grid and pixel mean, for image-shaped data (IDX images, Digits, CSVs marked H×W); else null. */
  image: ImagePreview.nullable().optional(),
  /** Known class names the files seem to have, and why (IDX only); the user may pick or edit them. */
  knownClasses: z
    .strictObject({ set: z.enum(KNOWN_CLASS_SETS), reason: z.string() })
    .nullable()
    .optional(),
})

export const CsvColumn = z.strictObject({
  name: z.string(),
  type: z.enum(['numeric', 'categorical']),
  /** Empty cells. */
  missing: z.number().int(),
  /** Distinct values, counted up to 1,000 (then 1000 means "1000 or more"). */
  distinct: z.number().int(),
  examples: z.array(z.string()),
})

export const FileSummary = z.discriminatedUnion('format', [
  z.strictObject({
    format: z.literal('csv'),
    rows: z.number().int(),
    columns: z.array(CsvColumn),
    /** The first rows as text, header excluded. */
    preview: z.array(z.array(z.string())),
    /** Things worth knowing that are not errors (e.g. a delimiter guessed, blank lines skipped). */
    warnings: z.array(z.string()),
  }),
  z.strictObject({
    format: z.literal('idx'),
    dtype: z.string(),
    dims: z.array(z.number().int()),
    /** 1-D files are labels; 2-D or more are images. */
    role: z.enum(['images', 'labels']),
  }),
])

export const StoredFile = z.strictObject({
  fileId: FileId,
  name: z.string(),
  bytes: z.number().int(),
  summary: FileSummary,
})

export const DATA_REQUESTS = {
  /**
   * One chunk of a file: bytes (`chunk`; a binary frame in serve mode, binary-frame.ts) or base64
   * text (`chunkBase64`), exactly one. Chunks arrive in order 0…total-1 under one uploadId; the reply to
   * the last one carries the stored, checked file. A malformed file is refused with a message that
   * names the row/column (CSV) or header field (IDX); nothing is stored then. Gzipped files (.gz,
   * as MNIST ships) are inflated by the host.
   */
  'files.upload': {
    payload: z
      .strictObject({
        uploadId: UploadId,
        name: z.string().min(1).max(255),
        index: z
          .number()
          .int()
          .min(0)
          .max(DATA_LIMITS.maxChunks - 1),
        total: z.number().int().min(1).max(DATA_LIMITS.maxChunks),
        /** Size of the whole file in bytes (checked against the limit before anything is kept). */
        bytes: z.number().int().min(0).max(DATA_LIMITS.maxUploadBytes),
        chunk: z
          .custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be bytes (a Uint8Array)')
          .refine((b) => b.byteLength <= DATA_LIMITS.maxChunkBytes, `must be at most ${DATA_LIMITS.maxChunkBytes} bytes`)
          .optional(),
        chunkBase64: z.string().max(DATA_LIMITS.maxChunkChars).optional(),
      })
      .refine((p) => (p.chunk === undefined) !== (p.chunkBase64 === undefined), 'needs exactly one of chunk (bytes) and chunkBase64'),
    result: z.strictObject({ uploadId: UploadId, received: z.number().int(), done: z.boolean(), file: StoredFile.nullable() }),
  },
  /** What a stored file is (e.g. to show a reopened run's CSV columns). */
  'files.info': { payload: z.strictObject({ fileId: FileId }), result: StoredFile },
} as const
