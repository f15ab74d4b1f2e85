// `npm start` (electron-vite preview: build, then launch) and `npm run dev` (electron-vite dev).
// Electron 45 downloads its binary on first `require('electron')` and only then writes
// node_modules/electron/path.txt, which electron-vite needs ("Error: Electron uninstall"). So we run
// Electron's own loader first, in a child process so its download output and errors stay ours, and
// hand electron-vite the binary it found (ELECTRON_EXEC_PATH). Where the download is impossible we
// print one line saying why and pointing at `npm run serve`, and exit 1 without a stack trace.
//
// BPS_ELECTRON_PACKAGE_DIR (tests only): the electron package folder to load instead of the one
// in node_modules, so a test can give the launcher a fresh-clone copy without touching this one.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))
const MODES = { preview: 'npm start', dev: 'npm run dev' }
const mode = process.argv[2]
const npmName = MODES[mode] ?? 'launch-electron'
const SERVE_HINT = 'use `npm run serve` for the browser version'

/** One line on stderr, then exit 1: what a person needs, with no stack trace. */
function fail(reason) {
  process.stderr.write(`${npmName}: cannot launch the desktop app: ${reason}; ${SERVE_HINT}.\n`)
  process.exit(1)
}

// Errors that mean "no network" (undici's "fetch failed" and its causes, DNS, refused, timeouts).
const NETWORK = /fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|socket hang up|getaddrinfo/

/** The electron package folder, or why there is none. */
function electronPackageDir() {
  const override = process.env['BPS_ELECTRON_PACKAGE_DIR']
  if (override) return override
  try {
    return dirname(require.resolve('electron/package.json'))
  } catch {
    return null
  }
}

/** Runs Electron's loader (index.js: downloads when path.txt or the binary is missing). */
function loadElectron(dir) {
  const version = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
  // The loader prints "Downloading Electron binary..." on stdout (shown) and its installer's
  // stack on stderr (kept to explain the failure in one line).
  const marker = 'BPS_ELECTRON_PATH='
  const r = spawnSync(process.execPath, ['-e', `process.stdout.write('\\n${marker}' + require(process.argv[1]) + '\\n')`, dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = r.stdout ?? ''
  const found = out.split('\n').find((l) => l.startsWith(marker))
  for (const line of out.split('\n')) if (line.trim() && !line.startsWith(marker)) process.stdout.write(`${line}\n`)
  if (r.status === 0 && found) {
    const binary = found.slice(marker.length).trim()
    if (existsSync(binary)) return binary
    fail(`Electron ${version}'s loader pointed at ${binary}, which does not exist (delete node_modules/electron and run npm install)`)
  }
  const err = `${r.stderr ?? ''}\n${r.error?.message ?? ''}`
  const net = err.match(NETWORK)
  if (net) fail(`Electron ${version} is not installed and its download from GitHub failed (${net[0]}: no network?)`)
  const first = err
    .split('\n')
    .find((l) => /error/i.test(l) && !/^\s+at /.test(l))
    ?.trim()
  fail(`Electron ${version} could not be installed (${first ?? `its loader exited with ${r.status ?? r.signal}`})`)
}

function main() {
  if (!MODES[mode]) {
    process.stderr.write(`launch-electron: expected "preview" or "dev", got ${JSON.stringify(mode)}\n`)
    process.exit(2)
  }
  let binary = process.env['ELECTRON_EXEC_PATH']
  if (!binary || !existsSync(binary)) {
    const dir = electronPackageDir()
    if (!dir || !existsSync(join(dir, 'package.json'))) fail('the electron package is missing from node_modules (run `npm install`)')
    binary = loadElectron(dir)
  }
  const cli = join(dirname(require.resolve('electron-vite')), '..', 'bin', 'electron-vite.js')
  // BPS_DEV_SERVER tells the main process that ELECTRON_RENDERER_URL comes from our dev server
  // (src/main/security.ts: rendererUrl); `npm start` clears it so a stray value is never honoured.
  const env = { ...process.env, ELECTRON_EXEC_PATH: binary }
  if (mode === 'dev') env['BPS_DEV_SERVER'] = '1'
  else delete env['BPS_DEV_SERVER']
  const child = spawn(process.execPath, [cli, mode, ...process.argv.slice(3)], { stdio: 'inherit', env, cwd: root })
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
  child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}

main()
