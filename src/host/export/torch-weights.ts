// Weights in PyTorch's layout: the state_dict of the generated nn.Sequential (`net.0.weight` is
// [out, in]), as safetensors with the metadata PyTorch's own writer puts there.
import { encodeSafetensors, type SafeTensor } from '../../engine'
import { transposeWeight, torchLinearIndex, type ExportModel } from './model'

export function architectureJson(model: ExportModel): string {
  return JSON.stringify({
    kind: 'mlp',
    sizes: model.sizes,
    features: model.features,
    hiddenActivation: model.hiddenActivation,
    outputActivation: 'linear',
  })
}

export function torchSafetensors(model: ExportModel): Uint8Array {
  const tensors: Record<string, SafeTensor> = {}
  model.layers.forEach((l, i) => {
    const k = torchLinearIndex(i)
    tensors[`net.${k}.weight`] = { dtype: 'F32', shape: [l.outFeatures, l.inFeatures], data: transposeWeight(l) }
    tensors[`net.${k}.bias`] = { dtype: 'F32', shape: [l.outFeatures], data: l.bias }
  })
  const metadata: Record<string, string> = { format: 'pt', architecture: architectureJson(model) }
  if (model.checkpointMetadata.step !== undefined) metadata.step = model.checkpointMetadata.step
  return encodeSafetensors(tensors, metadata)
}
