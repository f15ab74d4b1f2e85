import { describe, expect, it } from 'vitest'
import { parseServeArgs } from './serve-cli'

describe('parseServeArgs', () => {
  it('defaults to loopback, any free port and a fresh 32-byte hex token per launch', () => {
    const a = parseServeArgs([])
    const b = parseServeArgs([])
    expect(a).toMatchObject({ host: '127.0.0.1', hostExplicit: false, port: 0, warnings: [] })
    expect(a.token).toMatch(/^[0-9a-f]{64}$/)
    expect(a.token).not.toBe(b.token)
  })

  it('reads --port, --token and --data-dir', () => {
    const c = parseServeArgs(['--port', '4173', '--token', 'abcdefghijklmnop_-12', '--data-dir', 'some/dir'])
    expect(c).toMatchObject({ port: 4173, token: 'abcdefghijklmnop_-12' })
    expect(c.dataDir).toMatch(/some[\\/]dir$/)
  })

  it('allows a non-loopback host only when given explicitly, with a warning', () => {
    const c = parseServeArgs(['--host', '0.0.0.0'])
    expect(c).toMatchObject({ host: '0.0.0.0', hostExplicit: true })
    expect(c.warnings.join(' ')).toMatch(/WARNING.*other machines/)
    expect(parseServeArgs(['--host', 'localhost']).warnings).toEqual([])
  })

  it('caps connections at 32 by default, or at --max-clients', () => {
    expect(parseServeArgs([]).maxClients).toBe(32)
    expect(parseServeArgs(['--max-clients', '4']).maxClients).toBe(4)
    for (const bad of ['0', '-1', '1.5', 'x', '', '10001'])
      expect(() => parseServeArgs(['--max-clients', bad]), bad).toThrow(/--max-clients/)
  })

  it('keeps a closed page’s sessions 30 s for its reload by default, or --resume-grace seconds', () => {
    expect(parseServeArgs([]).resumeGraceMs).toBe(30_000)
    expect(parseServeArgs(['--resume-grace', '4']).resumeGraceMs).toBe(4000)
    expect(parseServeArgs(['--resume-grace', '0']).resumeGraceMs).toBe(0)
    for (const bad of ['-1', 'x', '', '3601']) expect(() => parseServeArgs(['--resume-grace', bad]), bad).toThrow(/--resume-grace/)
  })

  it('keeps the default checkpoint retention unless --keep-checkpoints says how many recent ones', () => {
    expect(parseServeArgs([]).keepRecent).toBeUndefined()
    expect(parseServeArgs(['--keep-checkpoints', '12']).keepRecent).toBe(12)
    for (const bad of ['-1', 'x', '', '1.5', '1001'])
      expect(() => parseServeArgs(['--keep-checkpoints', bad]), bad).toThrow(/--keep-checkpoints/)
  })

  it('rejects bad values and unknown flags with a message', () => {
    expect(() => parseServeArgs(['--port', '70000'])).toThrow(/--port/)
    expect(() => parseServeArgs(['--port', 'x'])).toThrow(/--port/)
    expect(() => parseServeArgs(['--port', ''])).toThrow(/--port/)
    expect(() => parseServeArgs(['--token', 'short'])).toThrow(/--token/)
    expect(() => parseServeArgs(['--token', 'has spaces and is long enough'])).toThrow(/--token/)
    expect(() => parseServeArgs(['--open'])).toThrow()
  })
})
