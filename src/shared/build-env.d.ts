// Constants injected by electron.vite.config.ts `define` into every bundle.
declare const __APP_VERSION__: string
/** The preload's only: the protocol's request kinds (REQUEST_KINDS), fixed when the preload is built. */
declare const __REQUEST_KINDS__: readonly import('./protocol').RequestKind[]
