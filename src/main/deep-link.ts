// Deep links: `backprop-studio://open#x=…` opened anywhere (a browser, a chat, a terminal) opens
// that experiment in the running app. The scheme is registered with the operating system; one app
// instance runs, and a second launch hands its link to the first (Windows and Linux pass the link
// in argv, macOS sends open-url). Only experiment links (share-link.ts) get through.
import { resolve } from 'node:path'
import { DEEP_LINK_SCHEME, isShareLink } from '../shared/share-link'

/** The experiment link among a launch's arguments, if any. */
export function linkFromArgv(argv: readonly string[]): string | null {
  return argv.find((a) => isShareLink(a)) ?? null
}

/** The part of Electron's `app` deep links use (a plain object in tests). */
export interface DeepLinkApp {
  requestSingleInstanceLock(): boolean
  setAsDefaultProtocolClient(protocol: string, path?: string, args?: string[]): boolean
  quit(): void
  on(event: 'second-instance', listener: (event: unknown, argv: string[]) => void): unknown
  on(event: 'open-url', listener: (event: { preventDefault(): void }, url: string) => void): unknown
}

export interface DeepLinks {
  /** The link the app was launched with (or one that arrived before the page asked), once. */
  take(): string | null
}

/**
 * Register the scheme and route links to `deliver` (the open windows). Returns null when another
 * instance already runs: this one hands over its link (Electron passes our argv to it) and quits.
 */
export function setUpDeepLinks(
  app: DeepLinkApp,
  proc: Pick<NodeJS.Process, 'argv' | 'execPath'> & { defaultApp?: boolean },
  deliver: (link: string) => void,
  focus: () => void,
): DeepLinks | null {
  if (!app.requestSingleInstanceLock()) {
    app.quit()
    return null
  }
  // Run as `electron path/to/app` (npm start, npm run dev), the OS must start that, not bare electron.
  if (proc.defaultApp && proc.argv.length >= 2) app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, proc.execPath, [resolve(proc.argv[1]!)])
  else app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME)
  let pending = linkFromArgv(proc.argv)
  const arrive = (link: string): void => {
    pending = link
    deliver(link)
    focus()
  }
  app.on('second-instance', (_event, argv) => {
    const link = linkFromArgv(argv)
    if (link) arrive(link)
    else focus()
  })
  app.on('open-url', (event, url) => {
    event.preventDefault()
    if (isShareLink(url)) arrive(url)
  })
  return {
    take() {
      const link = pending
      pending = null
      return link
    },
  }
}
