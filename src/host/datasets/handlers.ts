// The data requests: 'dataset.preview' (any data spec, subsampled for a scatter plot) and the
// user's files, 'files.upload' and 'files.info', over one file store per host: on disk in
// `<dataDir>/files/` when the host has a data directory, else in memory. The host passes the store
// to everything that reads a CSV or IDX spec (sessions, previews, exports).
import { join } from 'node:path'
import type { DATA_REQUESTS } from '../../shared/protocol-data'
import { previewData } from '../data-source'
import type { HandlerTable } from '../handlers/table'
import { FileStore } from './store'
import { Uploads } from './uploads'

/** Preview points are subsampled to about this many, enough for a scatter plot. */
export const PREVIEW_MAX_POINTS = 2000

export type DataHandlers = HandlerTable<keyof typeof DATA_REQUESTS | 'dataset.preview'>

export interface FilesHost {
  store: FileStore
  uploads: Uploads
}

/** The file store and upload assembly of a host with (or without) a data directory. */
export function filesHost(dataDir: string | undefined, now?: () => number): FilesHost {
  const store = new FileStore(dataDir === undefined ? null : join(dataDir, 'files'))
  return { store, uploads: new Uploads(store, now) }
}

export function dataHandlers({ store, uploads }: FilesHost): DataHandlers {
  return {
    'dataset.preview': (spec) => previewData(spec, PREVIEW_MAX_POINTS, store),
    'files.upload': (p) => uploads.receive(p),
    'files.info': ({ fileId }) => store.info(fileId),
  }
}
