// scripts/launch-electron.mjs (`npm start`, `npm run dev`) on a fresh clone, as real processes:
// Electron's loader must run first, and where its download cannot happen the user gets one line
// naming the reason and `npm run serve`, exit code 1, and no stack trace. Where it can (a local
// mirror serving a stand-in Electron zip), the real downloader and extractor run on this Node and
// electron-vite starts the binary they installed.
//
// The fresh clone is simulated by copying the electron package's own small files (no path.txt,
// no dist/) into a temp folder the launcher loads instead (BPS_ELECTRON_PACKAGE_DIR); NODE_PATH
// lets that copy's install.js find @electron/get in the real node_modules. The download goes to a
// closed port on 127.0.0.1 (ELECTRON_MIRROR, read by @electron/get), so it fails the same way with
// or without network, and never downloads 100 MB from a test.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { crc32 } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
const realElectron = join(root, 'node_modules', 'electron')
const work = mkdtempSync(join(tmpdir(), 'bps-launch-'))

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((done, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

/** A port nothing listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise((r) => server.close(r))
  return port
}

/** The electron package as `npm install` leaves it on a fresh clone (its "files", no binary). */
function freshElectronCopy(name: string, files = ['package.json', 'index.js', 'install.js', 'checksums.json', 'cli.js']): string {
  const dir = join(work, name)
  mkdirSync(dir, { recursive: true })
  for (const f of files) copyFileSync(join(realElectron, f), join(dir, f))
  return dir
}

let baseEnv: NodeJS.ProcessEnv
beforeAll(async () => {
  baseEnv = { ...process.env, ELECTRON_MIRROR: `http://127.0.0.1:${await closedPort()}/`, electron_config_cache: join(work, 'cache') }
  for (const k of ['ELECTRON_EXEC_PATH', 'ELECTRON_OVERRIDE_DIST_PATH', 'ELECTRON_SKIP_BINARY_DOWNLOAD', 'BPS_ELECTRON_PACKAGE_DIR'])
    delete baseEnv[k]
})
afterAll(() => rmSync(work, { recursive: true, force: true }))

const ONE_LINE = /^(npm start|npm run dev): cannot launch the desktop app: .+; use `npm run serve` for the browser version\.\n$/
const STACK_FRAME = /^\s+at /m

// Real npm and node processes on a shared machine: generous caps, no timing assertions.
describe('launching Electron where its binary cannot be downloaded', { timeout: 120_000 }, () => {
  it.each(['preview', 'dev'])("launch-electron %s runs Electron's loader and ends with one line, exit 1, no stack", async (mode) => {
    const dir = freshElectronCopy(`fresh-${mode}`)
    const env = { ...baseEnv, BPS_ELECTRON_PACKAGE_DIR: dir, NODE_PATH: join(root, 'node_modules') }
    const r = await run(process.execPath, ['scripts/launch-electron.mjs', mode], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(ONE_LINE)
    expect(r.stderr).toContain(mode === 'dev' ? 'npm run dev:' : 'npm start:')
    // "fetch failed" comes from @electron/get's download: the loader and installer really ran
    // (so @electron/get also loads on this Node), and the failure was the network.
    expect(r.stderr).toMatch(/Electron \d+\.\d+\.\d+ is not installed and its download from GitHub failed \(fetch failed/)
    expect(r.stdout).toContain('Downloading Electron binary')
    expect(r.stderr).not.toMatch(STACK_FRAME)
    expect(existsSync(join(dir, 'path.txt'))).toBe(false)
  })

  it('names a broken install in one line too (installer missing), without a stack', async () => {
    const dir = freshElectronCopy('broken', ['package.json', 'index.js'])
    const r = await run(process.execPath, ['scripts/launch-electron.mjs', 'preview'], { ...baseEnv, BPS_ELECTRON_PACKAGE_DIR: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(ONE_LINE)
    expect(r.stderr).toMatch(/could not be installed \(.*Cannot find module/)
    expect(r.stderr).not.toMatch(STACK_FRAME)
  })

  it('`npm start` goes through the launcher: one line naming `npm run serve`, exit ≠ 0, no stack', async () => {
    const dir = freshElectronCopy('npm-start')
    const env = { ...baseEnv, BPS_ELECTRON_PACKAGE_DIR: dir, NODE_PATH: join(root, 'node_modules') }
    const r = await run('npm', ['start'], env)
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/^npm start: cannot launch the desktop app: Electron .* download from GitHub failed .*`npm run serve`/m)
    expect(r.stderr).not.toMatch(STACK_FRAME)
    expect(r.stderr).not.toContain('Electron uninstall')
  })

  // CI's case: this checkout's own node_modules/electron has never downloaded its binary.
  const installed = existsSync(join(realElectron, 'path.txt'))
  it.skipIf(installed)('`npm start` in this checkout (no path.txt: Electron never downloaded) says why in one line', async () => {
    const r = await run('npm', ['start'], baseEnv)
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/^npm start: cannot launch the desktop app: .*`npm run serve`/m)
    expect(r.stderr).not.toMatch(STACK_FRAME)
    expect(r.stderr).not.toContain('Electron uninstall')
    expect(existsSync(join(realElectron, 'path.txt'))).toBe(false)
  })
})

/** A zip (stored, no compression) holding one executable file: what Electron's release zips are. */
function zipOne(name: string, body: Buffer): Buffer {
  const n = Buffer.from(name)
  const crc = crc32(body)
  const local = Buffer.alloc(30)
  local.writeUInt32LE(0x04034b50, 0)
  local.writeUInt16LE(20, 4)
  local.writeUInt32LE(crc, 14)
  local.writeUInt32LE(body.length, 18)
  local.writeUInt32LE(body.length, 22)
  local.writeUInt16LE(n.length, 26)
  const central = Buffer.alloc(46)
  central.writeUInt32LE(0x02014b50, 0)
  central.writeUInt16LE((3 << 8) | 20, 4) // made by Unix: the external attributes carry the mode
  central.writeUInt16LE(20, 6)
  central.writeUInt32LE(crc, 16)
  central.writeUInt32LE(body.length, 20)
  central.writeUInt32LE(body.length, 24)
  central.writeUInt16LE(n.length, 28)
  central.writeUInt32LE((0o100755 << 16) >>> 0, 38)
  const cdOffset = local.length + n.length + body.length
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(1, 8)
  end.writeUInt16LE(1, 10)
  end.writeUInt32LE(central.length + n.length, 12)
  end.writeUInt32LE(cdOffset, 16)
  return Buffer.concat([local, n, body, central, n, end])
}

describe('launching Electron where its download works', { timeout: 120_000 }, () => {
  it.runIf(process.platform === 'linux')(
    "downloads through Electron's loader, writes path.txt and starts that binary via electron-vite",
    async () => {
      const dir = freshElectronCopy('downloads')
      const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version
      const zipName = `electron-v${version}-linux-${process.arch}.zip`
      const log = join(work, 'fake-electron.log')
      // Stands in for the Electron binary: records how electron-vite started it.
      const script = `#!/bin/sh\nprintf '%s\\n' "$0" "$1" "ELECTRON_EXEC_PATH=$ELECTRON_EXEC_PATH" "BPS_DEV_SERVER=$BPS_DEV_SERVER" > '${log}'\n`
      const zip = zipOne('electron', Buffer.from(script))
      writeFileSync(join(dir, 'checksums.json'), JSON.stringify({ [zipName]: createHash('sha256').update(zip).digest('hex') }))
      const requests: string[] = []
      const mirror = createHttpServer((req, res) => {
        requests.push(req.url ?? '')
        if (req.url?.endsWith(`/${zipName}`)) res.end(zip)
        else res.writeHead(404).end()
      })
      await new Promise<void>((r) => mirror.listen(0, '127.0.0.1', r))
      try {
        const { port } = mirror.address() as { port: number }
        const entry = join(work, 'main.js')
        writeFileSync(entry, '')
        const env = {
          ...baseEnv,
          BPS_ELECTRON_PACKAGE_DIR: dir,
          NODE_PATH: join(root, 'node_modules'),
          ELECTRON_MIRROR: `http://127.0.0.1:${port}/`,
          ELECTRON_ENTRY: entry, // electron-vite's own override of the app entry
          BPS_DEV_SERVER: '1', // `npm start` must clear it: only `npm run dev` may set it
        }
        // --skipBuild: the build is not what is tested here (and out/ belongs to the real build).
        const r = await run(process.execPath, ['scripts/launch-electron.mjs', 'preview', '--skipBuild'], env)
        expect(r.stderr).not.toMatch(/cannot launch|Electron uninstall/)
        expect(r.code).toBe(0)
        expect(requests).toEqual([`/v${version}/${zipName}`])
        expect(readFileSync(join(dir, 'path.txt'), 'utf8')).toBe('electron')
        const binary = join(dir, 'dist', 'electron')
        expect(readFileSync(log, 'utf8').split('\n')).toEqual([binary, entry, `ELECTRON_EXEC_PATH=${binary}`, 'BPS_DEV_SERVER=', ''])
      } finally {
        await new Promise((r) => mirror.close(r))
      }
    },
  )
})
