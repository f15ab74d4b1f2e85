// Upload throughput on loopback: the serve-mode server over the real engine worker, and a
// WebSocket client sending Fashion-MNIST's training images the way the page does: 512 KiB byte
// chunks, one binary frame each, in order, a few unanswered at once (chunk-pipeline.ts). Two files: the 26 MB .gz as
// shipped (the host inflates it) and the 47 MB inflated IDX. Timed from the first chunk to the
// stored file (which includes the host's check of the whole file), and beside the .gz the same
// file as base64 JSON text, the way uploads went before.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { WebSocket } from 'ws'
import { encodeBinaryRequest } from '../src/shared/binary-frame.js'
import { EngineProcess } from '../src/main/engine-process.js'
import { connect, realWorker } from '../src/main/serve-test-helpers.js'
import { startServer } from '../src/main/server.js'
import { sendChunks, UPLOAD_WINDOW } from '../src/shared/chunk-pipeline.js'

const SOURCE = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz'
const CHUNK = 512 * 1024

export type UploadResult =
  { skipped: string } | { gzBytes: number; gzSeconds: number; gzBase64Seconds: number; rawBytes: number; rawSeconds: number }

type Reply = { id: number; ok: boolean; error?: { message: string }; result?: { done: boolean } }

/** One upload of `bytes` over `ws`, as the page sends it (sendChunks); seconds from the first chunk to the stored file. */
async function timeUpload(ws: WebSocket, bytes: Uint8Array, name: string, tag: string, binary: boolean): Promise<number> {
  const total = Math.ceil(bytes.length / CHUNK)
  const waiting = new Map<number, (r: Reply) => void>()
  const onMessage = (data: unknown): void => {
    const r = JSON.parse(String(data)) as Reply
    waiting.get(r.id)?.(r)
    waiting.delete(r.id)
  }
  ws.on('message', onMessage)
  const t0 = performance.now()
  let done = false
  try {
    await sendChunks({
      total,
      read: async (index) => bytes.subarray(index * CHUNK, (index + 1) * CHUNK),
      send: (index, part) => {
        const payload = { uploadId: `ubench${tag}`, name, index, total, bytes: bytes.length }
        const msg = { v: 1, id: index + 1, kind: 'files.upload', payload: { ...payload, chunk: part } }
        const text = { ...msg, payload: { ...payload, chunkBase64: Buffer.from(part).toString('base64') } }
        const reply = new Promise<Reply>((resolve) => waiting.set(index + 1, resolve))
        ws.send(binary ? encodeBinaryRequest(msg)! : JSON.stringify(text))
        return reply
      },
      onReply: (r, index) => {
        if (!r.ok) throw new Error(`upload bench: chunk ${index} refused: ${r.error?.message}`)
        done = r.result?.done === true
      },
      stop: () => false,
    })
    if (!done) throw new Error('upload bench: the last chunk did not complete the file')
    return (performance.now() - t0) / 1000
  } finally {
    ws.off('message', onMessage)
  }
}

export async function benchUpload(): Promise<UploadResult> {
  let gz: Buffer
  try {
    gz = readFileSync(SOURCE)
  } catch {
    return { skipped: `${SOURCE} is missing (apt-get install dataset-fashion-mnist)` }
  }
  const raw = gunzipSync(gz)
  const labels = readFileSync(SOURCE.replace('train-images-idx3', 'train-labels-idx1'))
  const dir = mkdtempSync(join(tmpdir(), 'bps-bench-upload-'))
  writeFileSync(join(dir, 'index.html'), '<!doctype html>')
  const proc = new EngineProcess(() => realWorker(join(dir, 'data')))
  const token = 'bench-upload-token-0123456789'
  const server = await startServer({ token, staticDir: dir, engine: proc })
  try {
    const ws = await connect(server.port, `?token=${token}`)
    // Warm-up: the worker's modules load and the file store's directory is made.
    await timeUpload(ws, labels, 'train-labels-idx1-ubyte.gz', 'warm', true)
    const gzSeconds = await timeUpload(ws, gz, 'train-images-idx3-ubyte.gz', 'gz', true)
    const gzBase64Seconds = await timeUpload(ws, gz, 'train-images-idx3-ubyte.gz', 'gzbase64', false)
    const rawSeconds = await timeUpload(ws, raw, 'train-images-idx3-ubyte', 'raw', true)
    ws.close()
    return { gzBytes: gz.length, gzSeconds, gzBase64Seconds, rawBytes: raw.length, rawSeconds }
  } finally {
    await server.close()
    await proc.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
}

export function printUpload(r: UploadResult): void {
  console.log(
    `\nUpload on loopback (serve mode, real worker): Fashion-MNIST train images, 512 KiB chunks, ${UPLOAD_WINDOW} unanswered at once`,
  )
  if ('skipped' in r) return void console.log(`  skipped: ${r.skipped}`)
  const line = (what: string, bytes: number, s: number) =>
    `  ${what}: ${(bytes / 1e6).toFixed(1)} MB in ${s.toFixed(2)} s (${(bytes / 1e6 / s).toFixed(1)} MB/s)`
  console.log(`${line('.gz as shipped, binary frames', r.gzBytes, r.gzSeconds)}, inflated, checked and stored`)
  console.log(
    `${line('.gz as base64 JSON text (before)', r.gzBytes, r.gzBase64Seconds)}   binary/base64 time: ${(r.gzSeconds / r.gzBase64Seconds).toFixed(2)}×`,
  )
  console.log(`${line('inflated IDX, binary frames', r.rawBytes, r.rawSeconds)}, checked and stored`)
}

// `npx tsx --import ./src/host/datasets/raw-register.mjs bench/upload.ts`: this section alone (the
// hook must be registered before the host's static imports load, hence on the command line).
if (process.argv[1]?.endsWith('upload.ts')) printUpload(await benchUpload())
