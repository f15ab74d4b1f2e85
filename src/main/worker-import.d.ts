// electron-vite bundles `../host/index?nodeWorker` as its own chunk and turns the import into
// a factory for a worker_threads Worker over that chunk (main process and serve mode alike).
declare module '*?nodeWorker' {
  import type { Worker, WorkerOptions } from 'node:worker_threads'
  export default function createWorker(options?: WorkerOptions): Worker
}
