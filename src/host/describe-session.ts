// session.describe: the model as built, in the words of shared/model-rules.ts (the renderer and
// its test double say it the same way). The facts come from the live model, not the spec, so the
// summary is what trains. Shapes only: no weight is read, so it never waits for a device session.
import { describeModel, type ModelDescription } from '../shared/model-rules'
import type { TrainingSession } from './session'

export function describeSession(session: TrainingSession): ModelDescription {
  const { model, plan, data } = session.trainer
  return describeModel({
    sizes: [model.layers[0]!.inFeatures, ...model.layers.map((l) => l.outFeatures)],
    hiddenActivations: model.activations.slice(0, -1),
    loss: plan.name,
    auto: session.spec.model.loss === 'auto',
    task: data.train.task,
    optimizer: session.spec.optimizer.type,
    blocks: model.blocks.map((b) => ({ ...b })),
  })
}
