import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { DATA_LIMITS } from '../../shared/protocol-data'
import { testHost } from '../test-helpers'
import { FileStore } from './store'
import { asClient } from '../clients'
import { ingest, MAX_CONCURRENT_UPLOADS, MAX_UPLOADS_PER_CLIENT, PIECE_BYTES, UPLOAD_STALE_MS, Uploads } from './uploads'

const dirs: string[] = []
afterAll(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bps-files-'))
  dirs.push(d)
  return d
}

type Host = ReturnType<typeof testHost>
const CHUNK = 512 * 1024
let nextUpload = 0
const uploadId = (): string => `utest${(nextUpload++).toString().padStart(4, '0')}`

/** Send a file the way the client does: base64 chunks of at most 512 KiB, in order. */
async function upload(h: Host, name: string, bytes: Uint8Array, chunk = CHUNK) {
  const id = uploadId()
  const total = Math.max(1, Math.ceil(bytes.length / chunk))
  let last
  for (let i = 0; i < total; i++) {
    const chunkBase64 = Buffer.from(bytes.subarray(i * chunk, (i + 1) * chunk)).toString('base64')
    last = await h.ok('files.upload', { uploadId: id, name, index: i, total, bytes: bytes.length, chunkBase64 })
    expect(last).toMatchObject({ uploadId: id, received: i + 1, done: i === total - 1 })
  }
  return last!.file!
}

const CSV =
  'sepal_len,petal_len,species\n' +
  Array.from(
    { length: 60 },
    (_, i) =>
      `${(4.5 + (i % 7) * 0.3).toFixed(1)},${(1 + (i % 3) * 2.1 + (i % 5) * 0.1).toFixed(1)},${['setosa', 'versicolor', 'virginica'][i % 3]}`,
  ).join('\n') +
  '\n'
const csvBytes = new TextEncoder().encode(CSV)
const sha = (b: Uint8Array): string => `f${createHash('sha256').update(b).digest('hex').slice(0, 16)}`
const FASHION = '/usr/share/datasets/fashion-mnist'

describe('files.upload', () => {
  it('assembles chunks, summarises the CSV, stores it atomically under its content id, and finds it after a restart', async () => {
    const dataDir = tempDir()
    const h = testHost({ dataDir })
    const file = await upload(h, 'iris-mini.csv', csvBytes, 1000)
    expect(file.fileId).toBe(sha(csvBytes))
    expect(file).toMatchObject({ name: 'iris-mini.csv', bytes: csvBytes.length })
    if (file.summary.format !== 'csv') throw new Error('expected a CSV summary')
    expect(file.summary.rows).toBe(60)
    expect(file.summary.columns.map((c) => [c.name, c.type, c.missing, c.distinct])).toEqual([
      ['sepal_len', 'numeric', 0, 7],
      ['petal_len', 'numeric', 0, 15],
      ['species', 'categorical', 0, 3],
    ])
    expect(file.summary.columns[2].examples).toEqual(['setosa', 'versicolor', 'virginica'])
    expect(file.summary.preview).toHaveLength(20)
    expect(file.summary.preview[0]).toEqual(['4.5', '1.0', 'setosa'])
    expect(file.summary.warnings).toEqual([])
    const files = readdirSync(join(dataDir, 'files')).sort()
    expect(files).toEqual([`${file.fileId}.data`, `${file.fileId}.json`])
    expect(readFileSync(join(dataDir, 'files', `${file.fileId}.data`), 'utf8')).toBe(CSV)
    expect(await h.ok('files.info', { fileId: file.fileId })).toEqual(file)

    // A new host over the same directory (the app restarted) knows the file and can train on it.
    const again = testHost({ dataDir })
    expect(await again.ok('files.info', { fileId: file.fileId })).toEqual(file)
    const preview = await again.ok('dataset.preview', { source: 'csv', fileId: file.fileId, target: 'species' })
    expect(preview).toMatchObject({
      task: 'multiclass',
      trainCount: 42,
      testCount: 18,
      classNames: ['setosa', 'versicolor', 'virginica'],
      featureNames: ['sepal_len', 'petal_len'],
      planar: true,
    })
    expect((await again.fail('files.info', { fileId: 'f0000000000000000' })).code).toBe('not_found')
    // Sessions resolve their spec's file in the store of the host that holds it, even with a newer host around.
    const made = await h.ok('session.create', {
      model: { hidden: [4] },
      data: { source: 'csv', fileId: file.fileId, target: 'species' },
      optimizer: { type: 'sgd', lr: 0.1 },
      backend: 'cpu',
    })
    expect(made.inputFeatures).toBe(2)
    const other = testHost()
    const missing = await other.fail('dataset.preview', { source: 'csv', fileId: file.fileId, target: 'species' })
    expect(missing).toEqual({ code: 'not_found', message: `no stored file "${file.fileId}" (upload it again)` })
  })

  it('inflates gzip (same content, same id) and reports delimiter and BOM as warnings', async () => {
    const h = testHost()
    const plain = await upload(h, 'a.csv', csvBytes)
    const gz = await upload(h, 'a.csv.gz', gzipSync(csvBytes))
    expect(gz.fileId).toBe(plain.fileId)
    const semi = await upload(h, 'b.csv', new TextEncoder().encode('\uFEFFa;b;c\r\n1;2;x\r\n3;4;y\r\n'))
    expect(semi.summary).toMatchObject({
      format: 'csv',
      rows: 2,
      warnings: ['columns are separated by ";"', 'a byte order mark (BOM) at the start was ignored'],
    })
  })

  it('refuses chunks out of order, repeated, or describing another file; too many bytes; bad base64', async () => {
    const h = testHost()
    const b64 = (s: string) => Buffer.from(s).toString('base64')
    const chunk = (uploadId: string, index: number, over: object = {}) => ({
      uploadId,
      name: 'x.csv',
      index,
      total: 3,
      bytes: 9,
      chunkBase64: b64('a,b'),
      ...over,
    })
    const msg = async (p: object) => {
      const e = await h.fail('files.upload', p)
      return `${e.code}: ${e.message}`
    }
    expect(await msg(chunk('uorder01', 1))).toBe(
      'invalid_payload: files.upload uorder01 ("x.csv"): chunk 1 arrived, but no upload with this id is in progress (chunks start at 0; an upload idle for 5 minutes is dropped)',
    )
    await h.ok('files.upload', chunk('uorder01', 0))
    expect(await msg(chunk('uorder01', 0))).toBe(
      'invalid_payload: files.upload uorder01 ("x.csv"): chunk 0 was already received (next expected: chunk 1)',
    )
    expect(await msg(chunk('uorder01', 2))).toBe(
      'invalid_payload: files.upload uorder01 ("x.csv"): chunk 2 arrived out of order (next expected: chunk 1); chunks must be sent in order',
    )
    expect(await msg(chunk('uorder01', 3, { total: 3 }))).toBe(
      'invalid_payload: files.upload uorder01 ("x.csv"): chunk 3 is past the end: the upload has 3 chunks (0…2)',
    )
    expect(await msg(chunk('uorder01', 1, { total: 4 }))).toBe(
      'invalid_payload: files.upload uorder01 ("x.csv"): chunk 1 says the upload has 4 chunks, but it began with 3',
    )
    // That mismatch dropped the upload: its next chunk has nothing to join.
    expect(await msg(chunk('uorder01', 1))).toMatch(/no upload with this id is in progress/)

    await h.ok('files.upload', chunk('ubytes01', 0))
    expect(await msg(chunk('ubytes01', 1, { bytes: 10 }))).toBe(
      'invalid_payload: files.upload ubytes01 ("x.csv"): chunk 1 describes a different file (10 bytes) than the upload began with (9 bytes)',
    )
    await h.ok('files.upload', chunk('ubytes02', 0))
    await h.ok('files.upload', chunk('ubytes02', 1))
    expect(await msg(chunk('ubytes02', 2, { chunkBase64: b64('1,2,3') }))).toBe(
      'invalid_payload: files.upload ubytes02 ("x.csv"): the chunks hold more than the 9 bytes the upload announced',
    )
    await h.ok('files.upload', chunk('ubytes03', 0, { total: 2 }))
    expect(await msg(chunk('ubytes03', 1, { total: 2 }))).toBe(
      'invalid_payload: files.upload ubytes03 ("x.csv"): the 2 chunks hold 6 bytes, but the upload announced 9',
    )
    expect(await msg(chunk('ubase641', 0, { chunkBase64: 'not base64!' }))).toBe(
      'invalid_payload: files.upload ubase641 ("x.csv"): chunk 0 is not valid base64',
    )
    // Bigger than the limit: the schema refuses it before the host looks.
    expect(await msg(chunk('ubig0001', 0, { bytes: DATA_LIMITS.maxUploadBytes + 1 }))).toMatch(
      /^invalid_payload: files\.upload: bytes: Too big/,
    )
  })

  it(`allows ${MAX_CONCURRENT_UPLOADS} uploads at once and drops idle ones after ${UPLOAD_STALE_MS / 60_000} minutes`, () => {
    let now = 0
    const uploads = new Uploads(new FileStore(null), () => now)
    const start = (id: string) =>
      uploads.receive({ uploadId: id, name: 'x.csv', index: 0, total: 2, bytes: 6, chunkBase64: Buffer.from('a,b').toString('base64') })
    for (let i = 0; i < MAX_CONCURRENT_UPLOADS; i++) start(`uconc00${i}`)
    expect(() => start('uconc009')).toThrow(
      `files.upload uconc009 ("x.csv"): ${MAX_CONCURRENT_UPLOADS} uploads are already in progress; wait for one to finish`,
    )
    now += UPLOAD_STALE_MS - 1
    expect(() => start('uconc009')).toThrow(/already in progress/)
    now += 2
    expect((start('uconc009') as { received: number }).received).toBe(1)
    expect(uploads.inProgress).toBe(1)
  })

  it(`one client holds at most ${MAX_UPLOADS_PER_CLIENT} unfinished uploads: abandoning more never locks other clients out`, () => {
    let now = 0
    const uploads = new Uploads(new FileStore(null), () => now)
    const start = (client: string, id: string) =>
      asClient(client, () =>
        uploads.receive({ uploadId: id, name: 'x.csv', index: 0, total: 2, bytes: 6, chunkBase64: Buffer.from('a,b').toString('base64') }),
      )
    const next = (client: string, id: string) =>
      asClient(client, () =>
        uploads.receive({ uploadId: id, name: 'x.csv', index: 1, total: 2, bytes: 6, chunkBase64: Buffer.from('\n1,').toString('base64') }),
      )
    // A tab starts and abandons uploads while it stays connected (nothing releases it).
    for (let i = 0; i < MAX_CONCURRENT_UPLOADS + 2; i++) {
      now++
      start('tab-a', `uaban00${i}`)
    }
    expect(uploads.inProgress).toBe(MAX_UPLOADS_PER_CLIENT)
    // Its oldest were dropped (it had moved on); its newest still continue.
    expect(() => next('tab-a', 'uaban000')).toThrow(/no upload with this id is in progress/)
    expect((next('tab-a', `uaban00${MAX_CONCURRENT_UPLOADS + 1}`) as Promise<unknown>) instanceof Promise).toBe(true)
    // Another tab still gets slots.
    for (let i = 0; i < MAX_UPLOADS_PER_CLIENT; i++) expect((start('tab-b', `uother0${i}`) as { received: number }).received).toBe(1)
  })

  it('refuses empty, binary, non-UTF-8, over-inflating and malformed files; nothing is stored', async () => {
    const store = new FileStore(join(tempDir(), 'files'))
    const err = async (name: string, bytes: Uint8Array) => {
      try {
        await ingest(store, name, bytes)
      } catch (e) {
        return `${(e as { code: string }).code}: ${(e as Error).message}`
      }
      throw new Error('expected a refusal')
    }
    const text = (s: string) => new TextEncoder().encode(s)
    expect(await err('empty.csv', new Uint8Array(0))).toBe('invalid_payload: "empty.csv" is empty')
    expect(await err('blank.csv', text('\n\n'))).toBe('invalid_payload: "blank.csv": the file is empty')
    expect(await err('pic.png', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]))).toBe(
      'invalid_payload: "pic.png" is not a CSV text file: it holds binary data (a zero byte at offset 8); upload a CSV table or an IDX file',
    )
    expect(await err('latin1.csv', Uint8Array.from([0x61, 0x0a, 0xe9, 0x0a]))).toBe(
      'invalid_payload: "latin1.csv" is not UTF-8 text; save the CSV as UTF-8',
    )
    expect(await err('header.csv', text('a,b,c\n'))).toBe('invalid_payload: "header.csv": the file has a header row but no data rows')
    expect(await err('ragged.csv', text('a,b,c\n1,2,3\n4,5\n'))).toBe(
      'invalid_payload: "ragged.csv": row 3 has 2 fields, expected 3 (as in the header)',
    )
    expect(await err('dup.csv', text('a,b,a\n1,2,3\n'))).toBe(
      'invalid_payload: "dup.csv": column name "a" appears twice in the header row (columns 1 and 3)',
    )
    const wide = Array.from({ length: DATA_LIMITS.maxColumns + 1 }, (_, i) => `c${i}`).join(',')
    expect(await err('wide.csv', text(`${wide}\n${wide}\n`))).toBe(
      `invalid_payload: "wide.csv": the header has ${DATA_LIMITS.maxColumns + 1} columns, more than the ${DATA_LIMITS.maxColumns} allowed`,
    )
    expect(await err('long.csv', text(`a\n${'1\n'.repeat(DATA_LIMITS.maxSamples + 1)}`))).toBe(
      `invalid_payload: "long.csv": more than ${DATA_LIMITS.maxSamples} data rows (the most a dataset may have)`,
    )
    const zeros = gzipSync(new Uint8Array(DATA_LIMITS.maxUploadBytes + 1))
    expect(await err('bomb.csv.gz', zeros)).toBe(
      'invalid_payload: "bomb.csv.gz" is not a CSV text file: it holds binary data (a zero byte at offset 0); upload a CSV table or an IDX file',
    )
    const stats = { inflatedBytes: 0, rowsParsed: 0, yields: 0 }
    await expect(ingest(store, 'bomb-idx3-ubyte.gz', zeros, stats)).rejects.toThrow(
      '"bomb-idx3-ubyte.gz" inflates to more than 64 MiB, the most a file may hold',
    )
    // Inflation stopped at the first piece past the limit.
    expect(stats.inflatedBytes).toBeLessThanOrEqual(DATA_LIMITS.maxUploadBytes + PIECE_BYTES)
    expect(await err('cut.csv.gz', gzipSync(text(CSV)).subarray(0, 40))).toMatch(
      /^invalid_payload: "cut\.csv\.gz" looks gzip-compressed but does not inflate \(.*\); is it truncated\?$/,
    )
    expect(await err('bad-idx3-ubyte', Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 2]))).toMatch(
      /^invalid_payload: "bad-idx3-ubyte": truncated header: 3 dims need 16 header bytes, got 8$/,
    )
    expect(readdirSync(store.dir!)).toEqual([])
    expect(existsSync(join(store.dir!, '..', 'files'))).toBe(true)
  }, 120_000)
})

describe('uploads over the limits (issue 17: a 92 KB gzip of `"1"\\n\\n` rows took the worker to 4.48 GB)', () => {
  it('refuses a gzip bomb of "1" rows at the row limit, having inflated and parsed only that far', async () => {
    // 60 MiB of `"1"\n\n` (12.6 M rows) gzips to well under 1 MB.
    const unit = Buffer.from('"1"\n\n')
    const bomb = gzipSync(
      Buffer.concat([Buffer.from('x\n'), Buffer.alloc(60 * 1024 * 1024 - 2 - ((60 * 1024 * 1024 - 2) % unit.length), '"1"\n\n')]),
      { level: 9 },
    )
    expect(bomb.length).toBeLessThan(1024 * 1024)
    const h = testHost()
    const e = await h.fail('files.upload', {
      uploadId: uploadId(),
      name: 'bomb.csv.gz',
      index: 0,
      total: 1,
      bytes: bomb.length,
      chunkBase64: bomb.toString('base64'),
    })
    expect(e).toEqual({
      code: 'invalid_payload',
      message: `"bomb.csv.gz": more than ${DATA_LIMITS.maxSamples} data rows (the most a dataset may have)`,
    })
    const stats = { inflatedBytes: 0, rowsParsed: 0, yields: 0 }
    await expect(ingest(new FileStore(null), 'bomb.csv.gz', bomb, stats)).rejects.toThrow(/more than 100000 data rows/)
    expect(stats.rowsParsed).toBeLessThanOrEqual(DATA_LIMITS.maxSamples + 1)
    // 100,000 rows are 500 KB of the 60 MiB: the rest was never inflated.
    expect(stats.inflatedBytes).toBeLessThan(100_001 * unit.length + 2 * PIECE_BYTES)
  }, 120_000)

  it('refuses more cells than the limit while parsing', async () => {
    const width = 4000
    const row = `${Array.from({ length: width }, (_, j) => j % 10).join(',')}\n`
    const rows = Math.floor(DATA_LIMITS.maxCells / width) + 1
    const bytes = gzipSync(Buffer.from(`${Array.from({ length: width }, (_, j) => `c${j}`).join(',')}\n${row.repeat(rows)}`))
    const stats = { inflatedBytes: 0, rowsParsed: 0, yields: 0 }
    await expect(ingest(new FileStore(null), 'wide.csv.gz', bytes, stats)).rejects.toThrow(
      `"wide.csv.gz": more than ${DATA_LIMITS.maxCells} cells (${width} columns × ${rows}+ rows; the most a file may hold); use fewer rows or columns`,
    )
    expect(stats.rowsParsed).toBe(rows - 1)
  }, 120_000)

  it('answers other requests while a big legal file is being parsed: the parse yields between pieces', async () => {
    const h = testHost()
    const csv = Buffer.from(
      `a,b,y\n${Array.from({ length: 90_000 }, (_, i) => `${(i % 97) + 0.125},${(i * 7) % 13}.375,${i % 2}`).join('\n')}\n`,
    )
    expect(csv.length).toBeGreaterThan(16 * PIECE_BYTES)
    const order: string[] = []
    let turns = 0
    let done = false
    const spin = (): void => {
      turns++
      if (!done) setImmediate(spin)
    }
    const id = uploadId()
    const total = Math.ceil(csv.length / CHUNK)
    const chunk = (i: number) => ({
      uploadId: id,
      name: 'big.csv',
      index: i,
      total,
      bytes: csv.length,
      chunkBase64: csv.subarray(i * CHUNK, (i + 1) * CHUNK).toString('base64'),
    })
    for (let i = 0; i < total - 1; i++) await h.ok('files.upload', chunk(i))
    setImmediate(spin)
    // The last chunk completes the file: it is parsed while the host answers host.hello.
    const upload = h.send('files.upload', chunk(total - 1)).then((r) => {
      done = true
      order.push('upload')
      return r
    })
    const hello = h.send('host.hello', {}).then(() => order.push('hello'))
    const [r] = await Promise.all([upload, hello])
    expect(r.ok).toBe(true)
    expect(order).toEqual(['hello', 'upload'])
    // The event loop turned many times while the file was parsed (a training slice could run in each).
    expect(turns).toBeGreaterThanOrEqual(16)
  }, 120_000)
})

describe('CSV errors at preview (issue 17: `"nan.csv"": row 0…` for the spreadsheet\'s row 2)', () => {
  it('numbers rows as a spreadsheet does, quotes the file name once and says a huge value overflows', async () => {
    const h = testHost()
    const file = await upload(h, 'nan.csv', new TextEncoder().encode('a,b,y\n1e309,2,0\n3,4,1\n'))
    expect(await h.fail('dataset.preview', { source: 'csv', fileId: file.fileId, target: 'y' })).toEqual({
      code: 'invalid_payload',
      message: '"nan.csv": row 2, column "a": 1e309 is too large for a 64-bit float (it overflows to Infinity)',
    })
  })
})

describe('FileStore', () => {
  it('keeps files in memory when the data directory cannot be used, and ignores leftover temp files and bad metadata', async () => {
    const blocker = join(tempDir(), 'not-a-dir')
    writeFileSync(blocker, 'x')
    const store = new FileStore(join(blocker, 'files'))
    expect(store.dir).toBeNull()
    const info = await ingest(store, 'a.csv', csvBytes)
    expect(store.info(info.fileId)).toEqual(info)
    expect(new TextDecoder().decode(store.bytes(info.fileId))).toBe(CSV)

    const dir = join(tempDir(), 'files')
    const disk = new FileStore(dir)
    const stored = await ingest(disk, 'a.csv', csvBytes)
    writeFileSync(join(dir, '.tmp-half-written'), 'partial')
    expect(new FileStore(dir).info(stored.fileId)).toEqual(stored)
    expect(readdirSync(dir).sort()).toEqual([`${stored.fileId}.data`, `${stored.fileId}.json`])
    writeFileSync(join(dir, `${stored.fileId}.json`), '{ torn')
    expect(new FileStore(dir).has(stored.fileId)).toBe(false)
    // Uploading the same bytes again repairs it.
    const again = new FileStore(dir)
    expect(await ingest(again, 'a.csv', csvBytes)).toEqual(stored)
    expect(new FileStore(dir).info(stored.fileId)).toEqual(stored)
  })
})

describe('e2e fixtures (the messages the e2e specs assert)', () => {
  const fixture = (name: string) => readFileSync(new URL(`../../../e2e/fixtures/${name}`, import.meta.url))
  const send = (h: Host, name: string) => {
    const bytes = fixture(name)
    return h.send('files.upload', {
      uploadId: uploadId(),
      name,
      index: 0,
      total: 1,
      bytes: bytes.length,
      chunkBase64: bytes.toString('base64'),
    })
  }
  it('good.csv uploads and trains; the malformed ones fail at upload or at preview with the row or column named', async () => {
    const h = testHost()
    const good = await send(h, 'good.csv')
    if (!good.ok) throw new Error(good.error.message)
    const file = (good.result as { file: { fileId: string; summary: { rows: number; columns: { name: string; type: string }[] } } }).file
    expect(file.summary.rows).toBe(150)
    expect(file.summary.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'sepal_length:numeric',
      'sepal_width:numeric',
      'petal_length:numeric',
      'petal_width:numeric',
      'site:categorical',
      'species:categorical',
    ])
    const errors: Record<string, string> = {}
    for (const name of ['empty.csv', 'header-only.csv', 'ragged.csv', 'setup-quote.csv']) {
      const r = await send(h, name)
      errors[name] = r.ok ? 'ok' : `${r.error.code}: ${r.error.message}`
    }
    expect(errors).toEqual({
      'empty.csv': 'invalid_payload: "empty.csv" is empty',
      'header-only.csv': 'invalid_payload: "header-only.csv": the file has a header row but no data rows',
      'ragged.csv': 'invalid_payload: "ragged.csv": row 7 has 5 fields, expected 6 (as in the header)',
      'setup-quote.csv': 'invalid_payload: "setup-quote.csv": row 6: a quoted field is never closed',
    })
    const nonnumeric = await send(h, 'nonnumeric.csv')
    if (!nonnumeric.ok) throw new Error(nonnumeric.error.message)
    const fileId = (nonnumeric.result as { file: { fileId: string } }).file.fileId
    const e = await h.fail('dataset.preview', { source: 'csv', fileId, target: 'species' })
    expect(`${e.code}: ${e.message}`).toBe('invalid_payload: "nonnumeric.csv": row 17, column "petal_length": "abc" is not a number')
    const e2 = await h.fail('session.create', {
      model: { hidden: [4] },
      data: { source: 'csv', fileId, target: 'species' },
      optimizer: { type: 'sgd', lr: 0.1 },
      backend: 'cpu',
    })
    expect(e2.message).toBe('"nonnumeric.csv": row 17, column "petal_length": "abc" is not a number')
    // A categorical feature chosen explicitly is one-hot encoded.
    const p = await h.ok('dataset.preview', { source: 'csv', fileId: file.fileId, target: 'species', features: ['petal_length', 'site'] })
    expect(p).toMatchObject({
      featureNames: ['petal_length', 'site=east', 'site=north', 'site=south'],
      axisNames: ['petal_length', 'site=east'],
      planar: false,
    })
  })
})

describe('IDX uploads (Fashion-MNIST t10k, as Debian ships it)', () => {
  it('uploads the gzipped files in chunks, pairs them into a dataset, previews and trains on it', async () => {
    const images = readFileSync(join(FASHION, 't10k-images-idx3-ubyte.gz'))
    const labels = readFileSync(join(FASHION, 't10k-labels-idx1-ubyte.gz'))
    const h = testHost({ dataDir: tempDir() })
    const img = await upload(h, 't10k-images-idx3-ubyte.gz', images)
    const lab = await upload(h, 't10k-labels-idx1-ubyte.gz', labels)
    expect(img).toMatchObject({
      name: 't10k-images-idx3-ubyte',
      bytes: 16 + 10000 * 784,
      summary: { format: 'idx', dtype: 'uint8', dims: [10000, 28, 28], role: 'images' },
    })
    expect(lab).toMatchObject({
      name: 't10k-labels-idx1-ubyte',
      bytes: 8 + 10000,
      summary: { format: 'idx', dtype: 'uint8', dims: [10000], role: 'labels' },
    })
    expect(Math.ceil(images.length / CHUNK)).toBeGreaterThan(1)

    const spec = { source: 'idx', imagesFileId: img.fileId, labelsFileId: lab.fileId, limit: 1000, seed: 2 } as const
    const preview = await h.ok('dataset.preview', spec)
    expect(preview).toMatchObject({
      task: 'multiclass',
      nClasses: 10,
      trainCount: 700,
      testCount: 300,
      planar: false,
      targetName: 'label',
      axisNames: ['px0', 'px1'],
    })
    expect(preview.featureNames).toHaveLength(784)
    // Known names: 28×28 images in 10 classes as bright as Fashion-MNIST's (the user may change them).
    expect(preview.classNames).toEqual([
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ])
    expect(preview.knownClasses?.set).toBe('fashion-mnist')
    expect(preview.labels).toHaveLength(1000)
    expect(preview.isTest.filter(Boolean)).toHaveLength(300)
    expect(preview.description).toMatch(/t10k-images-idx3-ubyte.*10000 × 28×28.*first 1000 examples/)

    const info = await h.ok('session.create', {
      model: { hidden: [32] },
      data: spec,
      optimizer: { type: 'adam', lr: 0.01 },
      train: { batchSize: 32, seed: 1 },
      backend: 'cpu',
    })
    expect(info.inputFeatures).toBe(784)
    expect(info.outputSize).toBe(10)
    expect((await h.ok('session.step', { sessionId: info.state.sessionId, steps: 5 })).step).toBe(5)

    // The training labels hold 60000 labels: they do not pair with the 10000 test images.
    const trainLabels = await upload(h, 'train-labels-idx1-ubyte.gz', readFileSync(join(FASHION, 'train-labels-idx1-ubyte.gz')))
    expect((await h.fail('dataset.preview', { ...spec, labelsFileId: trainLabels.fileId })).message).toBe(
      'dataset "t10k-images-idx3-ubyte": the images file holds 10000 images but the labels file holds 60000 labels',
    )
    expect((await h.fail('dataset.preview', { ...spec, imagesFileId: lab.fileId, labelsFileId: img.fileId })).message).toBe(
      'data.imagesFileId: "t10k-labels-idx1-ubyte" is not an IDX images file',
    )
    expect((await h.fail('dataset.preview', { source: 'csv', fileId: img.fileId, target: 'label' })).message).toBe(
      `file ${img.fileId} ("t10k-images-idx3-ubyte") is an IDX file, not a CSV table`,
    )
  }, 60_000)
})
