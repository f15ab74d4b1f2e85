// Constants injected by electron.vite.config.ts `define` into every bundle.
declare const __APP_VERSION__: string
