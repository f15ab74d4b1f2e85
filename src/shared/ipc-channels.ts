// Every IPC channel name lives here, so main and preload cannot drift apart and a reviewer
// sees the whole renderer-facing surface in one place. One channel per request, nothing generic.
// Type-only imports: the sandboxed preload bundles this file and must not pull in zod.
import type { PROTOCOL_VERSION, RequestKind } from './protocol'

export const IpcChannel = {
  appInfo: 'app.info',
  /** main → renderer: every engine host event (webContents.send). */
  engineEvent: 'engine.event',
} as const

/** renderer → main: one invoke channel per request kind; a new kind without one fails to compile. */
export const RequestChannel = {
  'host.hello': 'engine.host.hello',
  'dataset.preview': 'engine.dataset.preview',
  'session.create': 'engine.session.create',
  'session.start': 'engine.session.start',
  'session.pause': 'engine.session.pause',
  'session.step': 'engine.session.step',
  'session.reset': 'engine.session.reset',
  'session.update': 'engine.session.update',
  'session.dispose': 'engine.session.dispose',
  'session.info': 'engine.session.info',
  'scalar.evaluate': 'engine.scalar.evaluate',
  'session.graph': 'engine.session.graph',
  'session.network': 'engine.session.network',
  'session.neuronMap': 'engine.session.neuronMap',
  'session.gradcheck': 'engine.session.gradcheck',
  'runs.list': 'engine.runs.list',
  'runs.metrics': 'engine.runs.metrics',
  'runs.rename': 'engine.runs.rename',
  'runs.tag': 'engine.runs.tag',
  'runs.delete': 'engine.runs.delete',
  'runs.restore': 'engine.runs.restore',
  'runs.open': 'engine.runs.open',
  'runs.export': 'engine.runs.export',
  'session.importWeights': 'engine.session.importWeights',
  'files.upload': 'engine.files.upload',
  'files.info': 'engine.files.info',
  'session.histograms': 'engine.session.histograms',
  'session.boundary': 'engine.session.boundary',
  'session.predictions': 'engine.session.predictions',
  'session.describe': 'engine.session.describe',
} as const satisfies Record<RequestKind, `engine.${string}`>

export type IpcChannelName = (typeof IpcChannel)[keyof typeof IpcChannel] | (typeof RequestChannel)[RequestKind]

/** The protocol version, as a value the preload can use without importing protocol.ts (zod). */
export const WIRE_VERSION: typeof PROTOCOL_VERSION = 1
