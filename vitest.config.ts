// Unit tests live next to their source as *.test.ts and run in plain Node (no Electron, no DOM).
import { existsSync, mkdirSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { defineConfig } from 'vitest/config'

// The webgpu suites run on SwiftShader where no GPU exists (CI exports these in .ci/run). Set here
// too so a plain `npx vitest` works on a dev machine with chromium installed; workers inherit them.
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD
if (!process.env.XDG_RUNTIME_DIR) {
  const dir = join(tmpdir(), `xdg-runtime-${userInfo().uid}`) // Dawn wants it private (0700)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  process.env.XDG_RUNTIME_DIR = dir
}

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'bench/**/*.test.ts'],
    environment: 'node',
    // global.gc lets the WebGPU buffer pool ask for a collection when GPU memory (invisible to
    // V8's heuristics) piles up; the leak test checks the flag really reaches the workers.
    execArgv: ['--expose-gc'],
    // The JSON report feeds .ci/summary.mjs; the default reporter is for people.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
})
