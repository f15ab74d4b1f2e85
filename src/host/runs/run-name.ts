// A new run's default name, from what a person would call it: the data (the generator or bundled
// set, the uploaded file's own name) and the model's shape, e.g. "moons · 2×8 tanh" or
// "train-images-idx3-ubyte · 784-128-10 relu"; never a file's content id.
import type { DataSpecOut } from '../setup'
import type { FileStore } from '../datasets/store'

/** The data's name: generator, bundled set, or the uploaded file's name (its id if it is gone). */
export function dataName(spec: DataSpecOut, files: FileStore): string {
  const fileName = (fileId: string): string => {
    try {
      return files.info(fileId).name
    } catch {
      return fileId
    }
  }
  switch (spec.source) {
    case 'bundled':
      return spec.name
    case 'csv':
      return fileName(spec.fileId)
    case 'idx':
      return fileName(spec.imagesFileId)
    default:
      return spec.generator
  }
}

/**
 * The model's shape from its Linear layers: "2×8 tanh" for two or more hidden layers of one width,
 * else every width from input to output ("784-128-10 relu"); "linear" names a model with no hidden layer.
 */
export function modelName(layers: readonly { inFeatures: number; outFeatures: number; activation: string }[]): string {
  if (layers.length === 0) return 'empty'
  const hidden = layers.slice(0, -1)
  const sizes = [layers[0]!.inFeatures, ...layers.map((l) => l.outFeatures)]
  if (hidden.length === 0) return `${sizes.join('-')} linear`
  const acts = [...new Set(hidden.map((l) => l.activation))]
  const act = acts.length === 1 ? acts[0] : 'mixed'
  const widths = [...new Set(hidden.map((l) => l.outFeatures))]
  return hidden.length >= 2 && widths.length === 1 ? `${hidden.length}×${widths[0]} ${act}` : `${sizes.join('-')} ${act}`
}
