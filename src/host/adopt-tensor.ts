// Tensors from values read off disk (a checkpoint, imported weights) without a needless copy.
import { Tensor, tensor } from '../engine'

/**
 * Values read from a file as a tensor like `like` (shape, dtype, backend): the array itself where
 * its type already matches (it is the caller's to give away: a decoded checkpoint's), else a copy.
 * Opening a 16×1024 run copied its 190 MB of tensors twice.
 */
export function adopt(values: Float32Array | Float64Array, like: Pick<Tensor, 'shape' | 'dtype' | 'backend'>): Tensor {
  const fits = like.dtype === 'float64' ? values instanceof Float64Array : values instanceof Float32Array
  if (fits && like.backend.readSync) return new Tensor(like.backend.fromArray(values), [...like.shape], like.backend)
  return tensor(values, { shape: [...like.shape], dtype: like.dtype, backend: like.backend, allowNonFinite: true })
}
