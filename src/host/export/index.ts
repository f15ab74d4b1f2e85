// Exporting a run: the model at a checkpoint as safetensors (PyTorch layout), a PyTorch package
// (model.py, weights, train.py, data.csv, and the optimiser and sampler state train.py --continue
// starts from), ONNX or JSON, or the run's metrics as CSV. Files come back as
// ExportedFile values; the caller (the runs.export handler) decides where they go.
import { readFile } from 'node:fs/promises'
import type { z } from 'zod'
import { data } from '../../engine'
import type { ExportedFile, EXPORT_FORMATS } from '../../shared/protocol-runs'
import { HostError } from '../errors'
import { planLoss } from '../setup'
import { jsonExport } from './json'
import { metricsCsv } from './metrics-csv'
import { loadExportModel, type ExportModel, type SessionSpecOut } from './model'
import { onnxModel } from './onnx'
import { modelPy } from './pytorch'
import { trainPy } from './train-py'
import { optimizerSafetensors, trainStateJson } from './train-state'
import { parseCheckpoint, specAt, type Checkpoint } from '../runs/checkpoint'
import { dataLabel, modelInputsOf, prepareData } from '../data-source'
import type { FileStore } from '../datasets/store'
import { architectureJson, torchSafetensors } from './torch-weights'
import studioWatchPy from './studio_watch.py?raw'

export type ExportFormat = (typeof EXPORT_FORMATS)[number]
export type ExportedFileOut = z.output<typeof ExportedFile>

export interface ExportableRun {
  dir: string
  name: string
  spec: SessionSpecOut
  /** Where a CSV or IDX run's uploaded files are (the host's store); null when the run needs none. */
  files: FileStore | null
  /** A checkpoint: layers.<i>.weight [in, out] and layers.<i>.bias [out], optim.* and sampler.order. */
  checkpointPath: string
  /**
   * The checkpoint's JSON (step, sampler, optimiser scalars, live settings): with it the PyTorch
   * export carries the optimiser and sampler state for `train.py --continue`; without it (a bare
   * weights file) it carries the weights alone.
   */
  checkpointMetaPath?: string
  /** The run's NDJSON metrics log (train.metrics batches, one per line). */
  metricsPath: string
}

/** A file-name stem from the run's name: letters, digits, '-', '_' and '.', never empty. */
export function fileStem(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 60)
  return s || 'model'
}

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
const binary = (name: string, mediaType: string, bytes: Uint8Array): ExportedFileOut => ({
  name,
  mediaType,
  encoding: 'base64',
  content: base64(bytes),
})
const text = (name: string, mediaType: string, content: string): ExportedFileOut => ({ name, mediaType, encoding: 'utf8', content })

async function readRunFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new HostError(
      code === 'ENOENT' ? 'not_found' : 'internal',
      `export: cannot read the run's ${what} ${path} (${code ?? String(e)})`,
    )
  }
}

async function checkpointBytes(run: ExportableRun): Promise<Uint8Array> {
  const bytes = await readRunFile(run.checkpointPath, 'checkpoint')
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

async function loadModel(run: ExportableRun): Promise<ExportModel> {
  return loadExportModel(run.spec, await checkpointBytes(run), modelInputsOf(run.spec.data, run.files))
}

/** The checkpoint with its JSON, when the run has one (parsed as a reopened run reads it). */
async function loadCheckpoint(run: ExportableRun, bytes: Uint8Array): Promise<Checkpoint | null> {
  if (run.checkpointMetaPath === undefined) return null
  const meta = await readRunFile(run.checkpointMetaPath, 'checkpoint description')
  return parseCheckpoint(bytes, meta.toString('utf8'), `export: ${run.checkpointPath}`, run.checkpointMetaPath)
}

/** The loss the run trained with, resolved as the host resolves it ('auto' by task). */
function lossName(spec: SessionSpecOut, files: FileStore | null, outputSize: number): ReturnType<typeof planLoss>['name'] {
  const d = spec.data
  const task =
    d.source === undefined || d.source === 'generator'
      ? data.listGenerators().find((g) => g.name === d.generator)?.task
      : prepareData(d, files).raw.task
  if (!task) throw new HostError('invalid_payload', `export: unknown data "${dataLabel(d)}"`)
  return planLoss(spec.model.loss, task, outputSize, dataLabel(d)).name
}

export async function exportRun(run: ExportableRun, format: ExportFormat): Promise<ExportedFileOut[]> {
  const stem = fileStem(run.name)
  switch (format) {
    case 'metrics-csv': {
      const log = await readRunFile(run.metricsPath, 'metrics log')
      return [text(`${stem}-metrics.csv`, 'text/csv', metricsCsv(log.toString('utf8')).csv)]
    }
    case 'safetensors':
      return [binary(`${stem}.safetensors`, 'application/octet-stream', torchSafetensors(await loadModel(run)))]
    case 'json':
      return [text(`${stem}.json`, 'application/json', jsonExport(await loadModel(run), run.spec, run.name))]
    case 'onnx': {
      const model = await loadModel(run)
      return [
        binary(
          `${stem}.onnx`,
          'application/octet-stream',
          onnxModel(model, `Backprop Studio run "${run.name}": ${architectureJson(model)}`),
        ),
      ]
    }
    case 'pytorch':
      return pytorchPackage(run)
  }
}

/**
 * model.py, weights.safetensors, train.py and data.csv; with the checkpoint's JSON also
 * optimizer.safetensors and train_state.json, and train.py's defaults are the checkpoint's live
 * settings. The standardisation stays unfolded so the optimiser state fits layer 0.
 */
async function pytorchPackage(run: ExportableRun): Promise<ExportedFileOut[]> {
  const bytes = await checkpointBytes(run)
  const ck = await loadCheckpoint(run, bytes)
  const spec = ck ? specAt(run.spec, ck.meta) : run.spec
  const model = loadExportModel(spec, bytes, modelInputsOf(spec.data, run.files), { fold: false })
  const loss = lossName(spec, run.files, model.sizes[model.sizes.length - 1])
  const step = ck ? ck.meta.step : Number(model.checkpointMetadata.step ?? 0)
  const files = [
    text('model.py', 'text/x-python', modelPy(model, run.name)),
    binary('weights.safetensors', 'application/octet-stream', torchSafetensors(model)),
    text('train.py', 'text/x-python', trainPy(spec, loss, step)),
    text('data.csv', 'text/csv', trainingCsv(spec, run.files, model.features)),
    // Any PyTorch loop (this train.py or the user's own) can report to a running studio with it.
    text('studio_watch.py', 'text/x-python', studioWatchPy),
  ]
  if (!ck) return files
  return [
    ...files,
    binary('optimizer.safetensors', 'application/octet-stream', optimizerSafetensors(model, ck.tensors, ck.meta)),
    text('train_state.json', 'application/json', `${JSON.stringify(trainStateJson(spec, ck.tensors, ck.meta))}\n`),
  ]
}

/**
 * The run's training split (regenerated from its seeded spec), as train.py reads it: the model's
 * inputs for generator runs; for tables the raw rows and raw targets, as the exported model
 * (standardisations folded in) takes and predicts them.
 */
function trainingCsv(spec: ExportableRun['spec'], files: FileStore | null, features: readonly string[]): string {
  const d = prepareData(spec.data, files)
  const train = d.standardization || d.targetScaling ? data.subset(d.raw, d.trainRows) : d.train
  const lines = [[...features, 'label'].join(',')]
  for (let i = 0; i < train.n; i++) {
    const row: number[] = []
    for (let j = 0; j < train.nFeatures; j++) row.push(train.x[i * train.nFeatures + j])
    row.push(train.y[i])
    lines.push(row.join(','))
  }
  return lines.join('\n') + '\n'
}
