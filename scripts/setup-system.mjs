// `npm run setup:system` (and the first stage of `npm test`, and .ci/run): the Debian packages the
// tests need that `npm install` cannot bring, the way `playwright install --with-deps` does it.
// Checks what is missing (dpkg-query, well under a second); when nothing is, it prints nothing and
// exits 0 without touching apt. When something is: as root it runs apt-get update + install;
// otherwise it prints the exact command to run with sudo and exits 1.
//
// Why each package:
//   chromium               Playwright's browser (e2e) and SwiftShader's Vulkan driver for WebGPU
//   libvulkan1             the Vulkan loader Dawn needs to reach SwiftShader ("no WebGPU adapter")
//   python3-torch/-numpy   golden-value generation and the PyTorch export test
//   python3-onnx           the ONNX export test (onnx.checker)
//   dataset-fashion-mnist  the real-file fixture of the IDX import test (src/engine/data/idx.test.ts)
// --no-install-recommends: python3-torch would otherwise pull libtorch-dev and build-essential.
//
// Test-only overrides: BPS_SETUP_PACKAGES (space-separated list instead of the one below) and
// BPS_SETUP_USER=root|user (act as if root or not, without being so).
import { spawnSync } from 'node:child_process'

export const PACKAGES = ['chromium', 'libvulkan1', 'python3-torch', 'python3-numpy', 'python3-onnx', 'dataset-fashion-mnist']
const APT_FLAGS = ['-y', '--no-install-recommends']

const packages = process.env['BPS_SETUP_PACKAGES']?.split(/\s+/).filter(Boolean) ?? PACKAGES
const isRoot = process.env['BPS_SETUP_USER'] ? process.env['BPS_SETUP_USER'] === 'root' : process.getuid?.() === 0

/** The packages dpkg does not list as installed, or null where there is no dpkg (not Debian). */
function missing() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n', ...packages], { encoding: 'utf8' })
  if (r.error) return null
  const installed = new Set(
    r.stdout
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name.replace(/:.*$/, '')), // "libvulkan1:amd64" on multiarch systems
  )
  return packages.filter((p) => !installed.has(p))
}

function apt(args) {
  console.log(`setup-system: apt-get ${args.join(' ')}`)
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  if (r.error) return `apt-get could not run (${r.error.message})`
  return r.status === 0 ? null : `apt-get ${args[0]} exited with ${r.status ?? r.signal}`
}

function main() {
  const need = missing()
  if (need === null) {
    console.warn(`setup-system: no dpkg-query (not Debian/Ubuntu); the tests need the equivalents of: ${packages.join(' ')}`)
    return 0
  }
  if (need.length === 0) return 0
  const command = `sudo apt-get update && sudo apt-get install ${APT_FLAGS.join(' ')} ${need.join(' ')}`
  if (!isRoot) {
    console.error(`setup-system: missing system packages for the tests: ${need.join(', ')}. Install them with:`)
    console.error(`  ${command}`)
    return 1
  }
  console.log(`setup-system: installing ${need.join(', ')}`)
  const err = apt(['update']) ?? apt(['install', ...APT_FLAGS, ...need])
  const still = missing() ?? []
  if (still.length > 0) {
    console.error(`setup-system: still missing after apt-get: ${still.join(', ')}${err ? ` (${err})` : ''}`)
    return 1
  }
  return 0
}

process.exit(main())
