// Preload (sandboxed, CommonJS): exposes one named function per request, never ipcRenderer
// itself or a generic invoke, so the renderer can only ask what main explicitly answers.
// Each function sends exactly { v, id, kind, payload } on its own channel; main validates it.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { IpcChannel, RequestChannel, WIRE_VERSION } from '../shared/ipc-channels'
import { BRIDGE_GLOBAL, type AppInfo, type BackpropStudioBridge, type IpcReply } from '../shared/bridge'
import type { EventMessage, ReplyMessage, RequestKind } from '../shared/protocol'

/** Rebuilds the envelope from its four fields (nothing else crosses) with the channel's kind. */
function envelope(kind: RequestKind, message: unknown): { v: unknown; id: unknown; kind: RequestKind; payload: unknown } {
  const m = typeof message === 'object' && message !== null ? (message as Record<string, unknown>) : {}
  return { v: m['v'], id: m['id'], kind, payload: m['payload'] }
}

/** IPC itself failing (no handler, channel torn down) still answers with a reply envelope. */
function failed(message: unknown, err: unknown): ReplyMessage {
  const id = typeof message === 'object' && message !== null ? (message as { id?: unknown }).id : undefined
  return {
    v: WIRE_VERSION,
    id: typeof id === 'number' ? id : 0,
    ok: false,
    error: { code: 'internal', message: `IPC failed: ${err instanceof Error ? err.message : String(err)}` },
  }
}

const bridge: BackpropStudioBridge = {
  version: __APP_VERSION__,
  getAppInfo: () => ipcRenderer.invoke(IpcChannel.appInfo) as Promise<IpcReply<AppInfo>>,
  hello: (m) => ipcRenderer.invoke(RequestChannel['host.hello'], envelope('host.hello', m)).catch((e: unknown) => failed(m, e)),
  previewDataset: (m) => ipcRenderer.invoke(RequestChannel['dataset.preview'], envelope('dataset.preview', m)).catch((e: unknown) => failed(m, e)),
  createSession: (m) => ipcRenderer.invoke(RequestChannel['session.create'], envelope('session.create', m)).catch((e: unknown) => failed(m, e)),
  startSession: (m) => ipcRenderer.invoke(RequestChannel['session.start'], envelope('session.start', m)).catch((e: unknown) => failed(m, e)),
  pauseSession: (m) => ipcRenderer.invoke(RequestChannel['session.pause'], envelope('session.pause', m)).catch((e: unknown) => failed(m, e)),
  stepSession: (m) => ipcRenderer.invoke(RequestChannel['session.step'], envelope('session.step', m)).catch((e: unknown) => failed(m, e)),
  resetSession: (m) => ipcRenderer.invoke(RequestChannel['session.reset'], envelope('session.reset', m)).catch((e: unknown) => failed(m, e)),
  updateSession: (m) => ipcRenderer.invoke(RequestChannel['session.update'], envelope('session.update', m)).catch((e: unknown) => failed(m, e)),
  disposeSession: (m) => ipcRenderer.invoke(RequestChannel['session.dispose'], envelope('session.dispose', m)).catch((e: unknown) => failed(m, e)),
  sessionInfo: (m) => ipcRenderer.invoke(RequestChannel['session.info'], envelope('session.info', m)).catch((e: unknown) => failed(m, e)),
  evaluateScalar: (m) => ipcRenderer.invoke(RequestChannel['scalar.evaluate'], envelope('scalar.evaluate', m)).catch((e: unknown) => failed(m, e)),
  graphSnapshot: (m) => ipcRenderer.invoke(RequestChannel['session.graph'], envelope('session.graph', m)).catch((e: unknown) => failed(m, e)),
  networkSnapshot: (m) => ipcRenderer.invoke(RequestChannel['session.network'], envelope('session.network', m)).catch((e: unknown) => failed(m, e)),
  neuronMap: (m) => ipcRenderer.invoke(RequestChannel['session.neuronMap'], envelope('session.neuronMap', m)).catch((e: unknown) => failed(m, e)),
  gradcheck: (m) => ipcRenderer.invoke(RequestChannel['session.gradcheck'], envelope('session.gradcheck', m)).catch((e: unknown) => failed(m, e)),
  listRuns: (m) => ipcRenderer.invoke(RequestChannel['runs.list'], envelope('runs.list', m)).catch((e: unknown) => failed(m, e)),
  runMetrics: (m) => ipcRenderer.invoke(RequestChannel['runs.metrics'], envelope('runs.metrics', m)).catch((e: unknown) => failed(m, e)),
  renameRun: (m) => ipcRenderer.invoke(RequestChannel['runs.rename'], envelope('runs.rename', m)).catch((e: unknown) => failed(m, e)),
  tagRun: (m) => ipcRenderer.invoke(RequestChannel['runs.tag'], envelope('runs.tag', m)).catch((e: unknown) => failed(m, e)),
  deleteRun: (m) => ipcRenderer.invoke(RequestChannel['runs.delete'], envelope('runs.delete', m)).catch((e: unknown) => failed(m, e)),
  restoreRun: (m) => ipcRenderer.invoke(RequestChannel['runs.restore'], envelope('runs.restore', m)).catch((e: unknown) => failed(m, e)),
  openRun: (m) => ipcRenderer.invoke(RequestChannel['runs.open'], envelope('runs.open', m)).catch((e: unknown) => failed(m, e)),
  exportRun: (m) => ipcRenderer.invoke(RequestChannel['runs.export'], envelope('runs.export', m)).catch((e: unknown) => failed(m, e)),
  importWeights: (m) => ipcRenderer.invoke(RequestChannel['session.importWeights'], envelope('session.importWeights', m)).catch((e: unknown) => failed(m, e)),
  uploadFile: (m) => ipcRenderer.invoke(RequestChannel['files.upload'], envelope('files.upload', m)).catch((e: unknown) => failed(m, e)),
  fileInfo: (m) => ipcRenderer.invoke(RequestChannel['files.info'], envelope('files.info', m)).catch((e: unknown) => failed(m, e)),
  histograms: (m) => ipcRenderer.invoke(RequestChannel['session.histograms'], envelope('session.histograms', m)).catch((e: unknown) => failed(m, e)),
  decisionBoundary: (m) => ipcRenderer.invoke(RequestChannel['session.boundary'], envelope('session.boundary', m)).catch((e: unknown) => failed(m, e)),
  predictions: (m) => ipcRenderer.invoke(RequestChannel['session.predictions'], envelope('session.predictions', m)).catch((e: unknown) => failed(m, e)),
  describeSession: (m) => ipcRenderer.invoke(RequestChannel['session.describe'], envelope('session.describe', m)).catch((e: unknown) => failed(m, e)),
  onEvent: (listener) => {
    if (typeof listener !== 'function') throw new TypeError('onEvent: listener must be a function')
    // Only the message crosses; the IpcRendererEvent (sender, ports) never reaches the page.
    const relay = (_event: IpcRendererEvent, msg: EventMessage): void => listener(msg)
    ipcRenderer.on(IpcChannel.engineEvent, relay)
    return () => {
      ipcRenderer.removeListener(IpcChannel.engineEvent, relay)
    }
  },
}

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, bridge)
