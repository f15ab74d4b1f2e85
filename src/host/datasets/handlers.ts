// The 'files.upload' and 'files.info' requests, over one file store per host: on disk in
// `<dataDir>/files/` when the host has a data directory, else in memory. The host passes the store
// to everything that reads a CSV or IDX spec (sessions, previews, exports).
import { join } from 'node:path'
import type { ParsedPayload, RequestResult } from '../../shared/protocol'
import { FileStore } from './store'
import { Uploads } from './uploads'

export type FilesHandlers = {
  [K in 'files.upload' | 'files.info']: (p: ParsedPayload<K>) => RequestResult<K> | Promise<RequestResult<K>>
}

export interface FilesHost {
  store: FileStore
  uploads: Uploads
  handlers: FilesHandlers
}

/** The file store and upload assembly of a host with (or without) a data directory. */
export function filesHost(dataDir: string | undefined, now?: () => number): FilesHost {
  const store = new FileStore(dataDir === undefined ? null : join(dataDir, 'files'))
  const uploads = new Uploads(store, now)
  return {
    store,
    uploads,
    handlers: {
      'files.upload': (p) => uploads.receive(p),
      'files.info': ({ fileId }) => store.info(fileId),
    },
  }
}
