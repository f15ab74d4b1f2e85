// `npm run bench` starts: the script's whole module graph loads (the host's bundled CSVs are
// imported with `?raw`, whose loader hook must be registered on the command line, before the
// static imports: registered inside run.ts it came too late and the bench died at start with
// ERR_UNKNOWN_FILE_EXTENSION). Runs the cheapest section, the upload on loopback, end to end
// through the package script exactly as a user types it.
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

describe('npm run bench', () => {
  it('starts and prints its upload section (or says why it is skipped)', () => {
    const r = spawnSync('npm', ['run', '--silent', 'bench', '--', '--upload-only'], { encoding: 'utf8', timeout: 150_000 })
    expect(r.stderr, r.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|Error:/)
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0)
    expect(r.stdout).toContain('Upload on loopback (serve mode, real worker)')
    expect(r.stdout).toMatch(/\.gz as shipped, binary frames: [\d.]+ MB in [\d.]+ s|skipped: .+ is missing/)
  }, 180_000)
})
