// A session form from a spec: what the studio shows when it opens a run (or adopts a session), so
// the form equals what built the session and is not seen as edited.
import { SessionSpec } from '../../shared/protocol'
import { blocksOf } from '../../shared/model-blocks'
import { dataSeed, defaultForm, type CreatePayload, type SessionForm } from './session-form'

/** The form that builds `spec` (a session opened from a run), so it is not seen as edited. */
export function formFromSpec(input: CreatePayload): SessionForm {
  const spec = SessionSpec.parse(input)
  const form = defaultForm()
  const d = spec.data
  switch (d.source) {
    case 'bundled':
      form.source = 'bundled'
      form.bundled = { name: d.name, testRatio: d.testRatio, seed: d.seed, standardize: d.standardize }
      break
    case 'csv':
      form.source = 'csv'
      form.csv = {
        fileId: d.fileId,
        target: d.target,
        features: d.features ? [...d.features] : null,
        task: d.task,
        standardize: d.standardize,
        standardizeTarget: d.standardizeTarget,
        testRatio: d.testRatio,
        seed: d.seed,
        imageShape: d.imageShape ? [d.imageShape[0], d.imageShape[1]] : null,
      }
      break
    case 'idx':
      form.source = 'idx'
      form.idx = {
        imagesFileId: d.imagesFileId,
        labelsFileId: d.labelsFileId,
        limit: d.limit,
        scale: d.scale,
        testRatio: d.testRatio,
        seed: d.seed,
        testImagesFileId: d.testImagesFileId ?? null,
        testLabelsFileId: d.testLabelsFileId ?? null,
        classNames: d.classNames ? [...d.classNames] : null,
      }
      break
    default:
      form.source = 'generator'
      form.data = {
        generator: d.generator,
        n: d.n,
        noise: d.noise,
        seed: d.seed,
        testRatio: d.testRatio,
        classes: d.classes ?? null,
        features: [...d.features],
      }
  }
  form.hidden = [...spec.model.hidden]
  form.activations = spec.model.hidden.map((_, i) => spec.model.activations?.[i] ?? spec.model.activation)
  form.blocks = blocksOf(spec.model.hidden.length, spec.model.blocks)
  form.init = spec.model.init
  form.loss = spec.model.loss
  form.optimizer = { ...form.optimizer, ...spec.optimizer }
  const t = spec.train
  form.batchSize = t.batchSize
  form.evalEvery = t.evalEvery
  form.trainSeed = t.seed === dataSeed(form) ? null : t.seed
  form.schedule = { ...form.schedule, ...t.schedule }
  form.l1 = t.l1
  form.l2 = t.l2
  form.clipNorm = t.clipNorm
  form.stop = { ...t.stop, earlyStopping: t.stop.earlyStopping && { ...t.stop.earlyStopping } }
  form.alarms = { ...t.alarms }
  form.maxStepsPerSecond = t.maxStepsPerSecond
  form.backend = spec.backend
  return form
}
