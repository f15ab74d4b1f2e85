// `npm test`: every check in order — typecheck (node + web), the Electron security scan
// (electronegativity), unit tests, build, e2e — stopping at the first failure like a && chain,
// and recording each stage in test-results/stages.json so CI can count what ran
// (.ci/summary.mjs turns it into "N passed, N failed").
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'

const STAGES = ['typecheck:node', 'typecheck:web', 'security:electron', 'test:unit', 'build', 'test:e2e']
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

mkdirSync('test-results', { recursive: true })
const records = []
let exitCode = 0
for (const stage of STAGES) {
  if (exitCode !== 0) {
    records.push({ name: stage, status: 'not-run' })
    continue
  }
  console.log(`\n=== npm run ${stage} ===`)
  const r = spawnSync(npm, ['run', stage], { stdio: 'inherit' })
  const code = r.status ?? 1
  records.push({ name: stage, status: code === 0 ? 'passed' : 'failed' })
  if (code !== 0) exitCode = code
}
writeFileSync('test-results/stages.json', JSON.stringify(records) + '\n')
console.log(`\n${records.map((r) => `${r.name}: ${r.status}`).join(' · ')}`)
process.exit(exitCode)
