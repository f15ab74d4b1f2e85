// Fixture for shutdown.test.ts, run as its own process (node --import tsx) so the signal is real:
// serve mode as serve.ts wires it (startServer, EngineProcess over the real worker entry, and
// stopOnSignals), minus the built renderer. Prints the port once it listens.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { EngineProcess } from './engine-process'
import { stopOnSignals } from './serve-lifecycle'
import { realWorker } from './serve-test-helpers'
import { startServer } from './server'

const [dir, token] = process.argv.slice(2) as [string, string]
const staticDir = join(dir, 'renderer')
mkdirSync(staticDir, { recursive: true })
writeFileSync(join(staticDir, 'index.html'), '<!doctype html>')
const engine = new EngineProcess(() => realWorker(join(dir, 'runs')))
void startServer({ token, staticDir, engine }).then((server) => {
  stopOnSignals(server, engine)
  process.stdout.write(`port ${server.port}\n`)
})
