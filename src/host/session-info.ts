// What session.create and session.info answer: the session's state and spec, and its model and
// data as built (layer shapes, loss, task, feature and class names), for the studio to draw.
import type { SessionInfo, TrainingSession } from './session'

export function sessionInfo(s: TrainingSession): SessionInfo {
  const { model, plan, data } = s.trainer
  return {
    runId: s.recorder?.runId ?? null,
    state: s.state(),
    spec: structuredClone(s.spec),
    paramCount: model.parameterCount(),
    layers: model.layers.map((l, i) => ({
      name: `layers.${i}`,
      inFeatures: l.inFeatures,
      outFeatures: l.outFeatures,
      activation: model.activations[i],
    })),
    loss: plan.name,
    task: data.train.task,
    inputFeatures: data.train.nFeatures,
    outputSize: plan.outputSize,
    featureNames: [...data.featureNames],
    classNames: data.classNames && [...data.classNames],
    planar: data.planar,
    imageShape: data.imageShape,
  }
}
