// Weights in PyTorch's layout: the state_dict of the generated module (model.py) — an nn.Sequential
// for a plain MLP (`net.0.weight` is [out, in]), blocks for one with the lab's extras
// (`blocks.0.linear.weight`, `blocks.0.norm.running_mean`, `out.weight`) — as safetensors with the
// metadata PyTorch's own writer puts there. num_batches_tracked is I64, as PyTorch keeps it.
import { encodeSafetensors, type SafeTensor } from '../../engine'
import { torchNames, transposeWeight, type ExportModel } from './model'

export function architectureJson(model: ExportModel): string {
  const arch: Record<string, unknown> = {
    kind: 'mlp',
    sizes: model.sizes,
    features: model.features,
    hiddenActivation: model.hiddenActivation,
    outputActivation: 'linear',
  }
  if (model.blocks) {
    arch.blocks = model.layers
      .slice(0, -1)
      .map((l) => ({ norm: l.norm?.kind ?? 'none', normAt: l.norm?.at ?? 'mid', dropout: l.dropout, residual: l.residual }))
  }
  if (model.inputScaling) arch.inputScaling = { mean: Array.from(model.inputScaling.mean), std: Array.from(model.inputScaling.std) }
  return JSON.stringify(arch)
}

export function torchSafetensors(model: ExportModel): Uint8Array {
  const tensors: Record<string, SafeTensor> = {}
  model.layers.forEach((l, i) => {
    const { linear, norm } = torchNames(model, i)
    tensors[`${linear}.weight`] = { dtype: 'F32', shape: [l.outFeatures, l.inFeatures], data: transposeWeight(l) }
    tensors[`${linear}.bias`] = { dtype: 'F32', shape: [l.outFeatures], data: l.bias }
    const n = l.norm
    if (!n) return
    tensors[`${norm}.weight`] = { dtype: 'F32', shape: [n.features], data: n.weight }
    tensors[`${norm}.bias`] = { dtype: 'F32', shape: [n.features], data: n.bias }
    if (n.runningMean && n.runningVar && n.numBatchesTracked !== null) {
      tensors[`${norm}.running_mean`] = { dtype: 'F32', shape: [n.features], data: n.runningMean }
      tensors[`${norm}.running_var`] = { dtype: 'F32', shape: [n.features], data: n.runningVar }
      tensors[`${norm}.num_batches_tracked`] = { dtype: 'I64', shape: [], data: Float64Array.from([n.numBatchesTracked]) }
    }
  })
  const metadata: Record<string, string> = { format: 'pt', architecture: architectureJson(model) }
  if (model.checkpointMetadata.step !== undefined) metadata.step = model.checkpointMetadata.step
  return encodeSafetensors(tensors, metadata)
}
