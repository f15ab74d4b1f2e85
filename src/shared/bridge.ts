// The shape of the API the preload exposes on `window.backpropStudio`. Shared so that the
// preload implements it and the renderer consumes it against one definition.
import type { EventMessage, ReplyMessage, RequestKind, RequestMessage } from './protocol'

/** The global name; unusual on purpose, so a DOM element id cannot shadow it. */
export const BRIDGE_GLOBAL = 'backpropStudio'

export interface AppInfo {
  name: string
  version: string
  electron: string
  chrome: string
  node: string
  platform: string
}

/** Replies never throw across the process boundary; failures come back as data. */
export type IpcReply<T> =
  | { ok: true; result: T }
  | { ok: false; error: { code: string; message: string } }

/**
 * One function per request kind. Each takes the full request envelope `{ v, id, kind, payload }`
 * and resolves with the reply envelope under the same id (never rejects on purpose). Replies are
 * untyped here on purpose: the renderer validates them with `parseReply`.
 */
export interface EngineBridgeApi {
  hello(message: RequestMessage<'host.hello'>): Promise<ReplyMessage>
  previewDataset(message: RequestMessage<'dataset.preview'>): Promise<ReplyMessage>
  createSession(message: RequestMessage<'session.create'>): Promise<ReplyMessage>
  startSession(message: RequestMessage<'session.start'>): Promise<ReplyMessage>
  pauseSession(message: RequestMessage<'session.pause'>): Promise<ReplyMessage>
  stepSession(message: RequestMessage<'session.step'>): Promise<ReplyMessage>
  resetSession(message: RequestMessage<'session.reset'>): Promise<ReplyMessage>
  updateSession(message: RequestMessage<'session.update'>): Promise<ReplyMessage>
  disposeSession(message: RequestMessage<'session.dispose'>): Promise<ReplyMessage>
  sessionInfo(message: RequestMessage<'session.info'>): Promise<ReplyMessage>
  evaluateScalar(message: RequestMessage<'scalar.evaluate'>): Promise<ReplyMessage>
  graphSnapshot(message: RequestMessage<'session.graph'>): Promise<ReplyMessage>
  networkSnapshot(message: RequestMessage<'session.network'>): Promise<ReplyMessage>
  neuronMap(message: RequestMessage<'session.neuronMap'>): Promise<ReplyMessage>
  gradcheck(message: RequestMessage<'session.gradcheck'>): Promise<ReplyMessage>
  listRuns(message: RequestMessage<'runs.list'>): Promise<ReplyMessage>
  runMetrics(message: RequestMessage<'runs.metrics'>): Promise<ReplyMessage>
  renameRun(message: RequestMessage<'runs.rename'>): Promise<ReplyMessage>
  tagRun(message: RequestMessage<'runs.tag'>): Promise<ReplyMessage>
  deleteRun(message: RequestMessage<'runs.delete'>): Promise<ReplyMessage>
  restoreRun(message: RequestMessage<'runs.restore'>): Promise<ReplyMessage>
  openRun(message: RequestMessage<'runs.open'>): Promise<ReplyMessage>
  exportRun(message: RequestMessage<'runs.export'>): Promise<ReplyMessage>
  importWeights(message: RequestMessage<'session.importWeights'>): Promise<ReplyMessage>
  uploadFile(message: RequestMessage<'files.upload'>): Promise<ReplyMessage>
  fileInfo(message: RequestMessage<'files.info'>): Promise<ReplyMessage>
  histograms(message: RequestMessage<'session.histograms'>): Promise<ReplyMessage>
  decisionBoundary(message: RequestMessage<'session.boundary'>): Promise<ReplyMessage>
  predictions(message: RequestMessage<'session.predictions'>): Promise<ReplyMessage>
  describeSession(message: RequestMessage<'session.describe'>): Promise<ReplyMessage>
  /** Every engine host event (metrics, session state, host status); returns the unsubscribe. */
  onEvent(listener: (message: EventMessage) => void): () => void
}

/** Which bridge function carries which request kind. */
export const BRIDGE_FUNCTIONS = {
  'host.hello': 'hello',
  'dataset.preview': 'previewDataset',
  'session.create': 'createSession',
  'session.start': 'startSession',
  'session.pause': 'pauseSession',
  'session.step': 'stepSession',
  'session.reset': 'resetSession',
  'session.update': 'updateSession',
  'session.dispose': 'disposeSession',
  'session.info': 'sessionInfo',
  'scalar.evaluate': 'evaluateScalar',
  'session.graph': 'graphSnapshot',
  'session.network': 'networkSnapshot',
  'session.neuronMap': 'neuronMap',
  'session.gradcheck': 'gradcheck',
  'runs.list': 'listRuns',
  'runs.metrics': 'runMetrics',
  'runs.rename': 'renameRun',
  'runs.tag': 'tagRun',
  'runs.delete': 'deleteRun',
  'runs.restore': 'restoreRun',
  'runs.open': 'openRun',
  'runs.export': 'exportRun',
  'session.importWeights': 'importWeights',
  'files.upload': 'uploadFile',
  'files.info': 'fileInfo',
  'session.histograms': 'histograms',
  'session.boundary': 'decisionBoundary',
  'session.predictions': 'predictions',
  'session.describe': 'describeSession',
} as const satisfies Record<RequestKind, Exclude<keyof EngineBridgeApi, 'onEvent'>>

export interface BackpropStudioBridge extends EngineBridgeApi {
  /** Version of the app that built this preload. */
  readonly version: string
  getAppInfo(): Promise<IpcReply<AppInfo>>
}
