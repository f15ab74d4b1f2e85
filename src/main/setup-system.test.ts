// scripts/setup-system.mjs (`npm run setup:system`, the first stage of `npm test`, called by .ci/run)
// as a real process against the real dpkg database. apt-get is a recording fake placed first on
// PATH, so the test sees exactly what would be run and never installs anything.
// BPS_SETUP_PACKAGES picks the packages (`dpkg` is installed on every Debian system; the other name
// exists nowhere) and BPS_SETUP_USER acts as root or not, whoever runs the test.
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
const work = mkdtempSync(join(tmpdir(), 'bps-setup-'))
const log = join(work, 'apt.log')
writeFileSync(join(work, 'apt-get'), `#!/bin/sh\necho "$@" >> '${log}'\nexit 0\n`)
chmodSync(join(work, 'apt-get'), 0o755)
afterAll(() => rmSync(work, { recursive: true, force: true }))

const ABSENT = 'bps-no-such-package'

function setup(user: 'root' | 'user', packages: string) {
  rmSync(log, { force: true })
  const env = {
    ...process.env,
    PATH: `${work}${delimiter}${process.env['PATH'] ?? ''}`,
    BPS_SETUP_USER: user,
    BPS_SETUP_PACKAGES: packages,
  }
  const r = spawnSync(process.execPath, ['scripts/setup-system.mjs'], { cwd: root, env, encoding: 'utf8' })
  const aptCalls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, aptCalls }
}

describe('setup-system', { timeout: 60_000 }, () => {
  it('is silent and leaves apt alone when everything is installed (root or not)', () => {
    for (const user of ['root', 'user'] as const) {
      const r = setup(user, 'dpkg')
      expect(r).toEqual({ code: 0, stdout: '', stderr: '', aptCalls: [] })
    }
  })

  it('as a user, prints the exact sudo command for only what is missing and exits 1', () => {
    const r = setup('user', `dpkg ${ABSENT}`)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`missing system packages for the tests: ${ABSENT}.`)
    expect(r.stderr).toContain(`  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${ABSENT}\n`)
    expect(r.aptCalls).toEqual([])
  })

  it('as root, runs apt-get update then install --no-install-recommends of what is missing, and checks again', () => {
    const r = setup('root', `dpkg ${ABSENT}`)
    expect(r.aptCalls).toEqual(['update', `install -y --no-install-recommends ${ABSENT}`])
    // The fake apt-get installs nothing: the script must notice instead of trusting its exit code.
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`still missing after apt-get: ${ABSENT}`)
  })

  it('checks the list the tests need (chromium, libvulkan1, the python goldens, Fashion-MNIST)', () => {
    const src = readFileSync(join(root, 'scripts/setup-system.mjs'), 'utf8')
    const list = /export const PACKAGES = \[([^\]]*)\]/.exec(src)?.[1] ?? ''
    for (const p of ['chromium', 'libvulkan1', 'python3-torch', 'python3-numpy', 'python3-onnx', 'dataset-fashion-mnist']) {
      expect(list).toContain(`'${p}'`)
    }
  })
})
