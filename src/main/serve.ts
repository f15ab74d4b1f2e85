// `npm run serve` entry (built to out/main/serve.js): hosts the built renderer and the engine
// worker for any browser on this machine, behind a per-launch token. Never imports electron.
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import createWorker from '../host/index?nodeWorker'
import { EngineProcess } from './engine-process'
import { parseServeArgs, SERVE_USAGE, type ServeConfig } from './serve-cli'
import { stopOnSignals } from './serve-lifecycle'
import { startServer } from './server'

async function main(): Promise<void> {
  let config: ServeConfig
  try {
    config = parseServeArgs(process.argv.slice(2))
  } catch (err) {
    console.error(`serve: ${err instanceof Error ? err.message : String(err)}\n${SERVE_USAGE}`)
    process.exit(2)
  }
  const staticDir = fileURLToPath(new URL('../renderer/', import.meta.url))
  if (!existsSync(`${staticDir}index.html`)) {
    console.error(`serve: ${staticDir}index.html is missing; run \`npm run build\` first`)
    process.exit(1)
  }
  for (const w of config.warnings) console.error(w)
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 })

  const workerData = {
    dataDir: config.dataDir,
    ...(config.memoryBudget === undefined ? {} : { memoryBudget: config.memoryBudget }),
    ...(config.keepRecent === undefined ? {} : { keepRecent: config.keepRecent }),
  }
  const engine = new EngineProcess(() => createWorker({ workerData }))
  let server: Awaited<ReturnType<typeof startServer>>
  try {
    server = await startServer({
      host: config.host,
      port: config.port,
      token: config.token,
      staticDir,
      engine,
      allowNonLoopback: config.hostExplicit,
      maxClients: config.maxClients,
      resumeGraceMs: config.resumeGraceMs,
    })
  } catch (err) {
    console.error(`serve: ${err instanceof Error ? err.message : String(err)}`)
    await engine.dispose()
    process.exit(1)
  }
  console.log(`Backprop Studio serving at ${server.url}`)
  console.log(`Runs are kept in ${config.dataDir}. Press Ctrl+C to stop.`)

  stopOnSignals(server, engine)
}

void main()
