import { EventEmitter } from 'node:events'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { linkFromArgv, setUpDeepLinks, type DeepLinkApp } from './deep-link'

const LINK = 'backprop-studio://open#x=1.eyJkIjp7fX0'

function fakeApp(locked = true) {
  const emitter = new EventEmitter()
  const calls: { registered: unknown[][]; quit: number } = { registered: [], quit: 0 }
  const app = Object.assign(emitter, {
    requestSingleInstanceLock: () => locked,
    setAsDefaultProtocolClient: (...args: unknown[]) => (calls.registered.push(args), true),
    quit: () => void calls.quit++,
  }) as unknown as DeepLinkApp & EventEmitter
  return { app, calls }
}

describe('deep links', () => {
  it('finds the experiment link among launch arguments, and nothing else', () => {
    expect(linkFromArgv(['/usr/bin/backprop-studio', '--no-sandbox', LINK])).toBe(LINK)
    expect(linkFromArgv(['/usr/bin/backprop-studio', 'backprop-studio://open#x=1.a b', 'https://evil.example/#x=1.aa'])).toBeNull()
    expect(linkFromArgv(['electron', '.', `backprop-studio://other#x=1.aa`])).toBeNull()
  })

  it('registers the scheme (with the app path when run as `electron path`), keeps the launch link for the page, once', () => {
    const { app, calls } = fakeApp()
    const links = setUpDeepLinks(
      app,
      { argv: ['/opt/electron', 'out/main/index.js', LINK], execPath: '/opt/electron', defaultApp: true },
      () => {},
      () => {},
    )!
    expect(calls.registered).toEqual([['backprop-studio', '/opt/electron', [resolve('out/main/index.js')]]])
    expect(links.take()).toBe(LINK)
    expect(links.take()).toBeNull()
    const packaged = fakeApp()
    setUpDeepLinks(
      packaged.app,
      { argv: ['/usr/bin/backprop-studio'], execPath: '/usr/bin/backprop-studio' },
      () => {},
      () => {},
    )
    expect(packaged.calls.registered).toEqual([['backprop-studio']])
  })

  it('a second launch hands its link to the running app (argv, or open-url on macOS), which focuses; other URLs are ignored', () => {
    const { app } = fakeApp()
    const delivered: string[] = []
    let focused = 0
    const links = setUpDeepLinks(
      app,
      { argv: ['/usr/bin/backprop-studio'], execPath: 'x' },
      (l) => delivered.push(l),
      () => void focused++,
    )!
    app.emit('second-instance', {}, ['/usr/bin/backprop-studio', LINK])
    app.emit('second-instance', {}, ['/usr/bin/backprop-studio'])
    let prevented = 0
    app.emit('open-url', { preventDefault: () => void prevented++ }, 'backprop-studio://open#x=1.Zm9v')
    app.emit('open-url', { preventDefault: () => void prevented++ }, 'backprop-studio://settings')
    expect(delivered).toEqual([LINK, 'backprop-studio://open#x=1.Zm9v'])
    expect(focused).toBe(3) // both second launches bring the window forward, and the good open-url
    expect(prevented).toBe(2)
    // The last link waits for a page that has not asked yet (a window still loading).
    expect(links.take()).toBe('backprop-studio://open#x=1.Zm9v')
  })

  it('a second instance quits at once, leaving its link to the first', () => {
    const { app, calls } = fakeApp(false)
    expect(
      setUpDeepLinks(
        app,
        { argv: ['x', LINK], execPath: 'x' },
        () => {},
        () => {},
      ),
    ).toBeNull()
    expect(calls.quit).toBe(1)
    expect(calls.registered).toEqual([])
  })
})
