// `npm test`: every check in order — the system packages (setup-system.mjs: installs them as root,
// else prints the sudo command), typecheck (node + web), the Electron security scan
// (electronegativity), the structure check (layering, import cycles, file sizes), lint (ESLint and
// Prettier), unit tests, build, e2e — stopping at the first failure like a && chain,
// and recording each stage in test-results/stages.json so CI can count what ran
// (.ci/summary.mjs turns it into "N passed, N failed").
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'

const STAGES = [
  'setup:system',
  'typecheck:node',
  'typecheck:web',
  'security:electron',
  'check:structure',
  'lint',
  'test:unit',
  'build',
  'test:e2e',
]
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

// So a plain `npm test` needs no environment: every stage (vitest, serve mode under Playwright)
// inherits these. SwiftShader's Vulkan driver (from chromium) gives Dawn a WebGPU adapter without a
// GPU, and Dawn wants a private XDG_RUNTIME_DIR. Values already set win. Applied before every
// stage, because setup:system may only now have installed chromium (a machine without it keeps
// its own Vulkan drivers: the variable is never pointed at a missing file).
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'
function envDefaults() {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD
  if (!process.env.XDG_RUNTIME_DIR) {
    const dir = join(tmpdir(), `xdg-runtime-${userInfo().uid}`)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    process.env.XDG_RUNTIME_DIR = dir
  }
}

mkdirSync('test-results', { recursive: true })
const records = []
let exitCode = 0
for (const stage of STAGES) {
  if (exitCode !== 0) {
    records.push({ name: stage, status: 'not-run' })
    continue
  }
  console.log(`\n=== npm run ${stage} ===`)
  envDefaults()
  const r = spawnSync(npm, ['run', stage], { stdio: 'inherit' })
  const code = r.status ?? 1
  records.push({ name: stage, status: code === 0 ? 'passed' : 'failed' })
  if (code !== 0) exitCode = code
}
writeFileSync('test-results/stages.json', JSON.stringify(records) + '\n')
console.log(`\n${records.map((r) => `${r.name}: ${r.status}`).join(' · ')}`)
process.exit(exitCode)
