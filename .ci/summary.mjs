// Turns test-results/{stages,vitest,e2e}.json into the one closing line CI reads:
// "N passed, N failed". Tests count one each (skipped ones count as neither); a stage without a
// test report (typecheck, build) counts as one; a stage that failed without a failing test in its
// report (crash, no tests found, web server down) or never ran adds one failure.
import { existsSync, readFileSync } from 'node:fs'

const dir = 'test-results'
const readJson = (file) => (existsSync(`${dir}/${file}`) ? JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) : null)

/** Vitest JSON: a file that fails to load has no assertions but a failed status. */
function countVitest(report) {
  let passed = 0
  let failed = 0
  for (const file of report.testResults ?? []) {
    const tests = file.assertionResults ?? []
    passed += tests.filter((t) => t.status === 'passed').length
    failed += tests.filter((t) => t.status === 'failed').length
    if (file.status === 'failed' && !tests.some((t) => t.status === 'failed')) failed += 1
  }
  return { passed, failed }
}

/** Playwright JSON: expected = passed, unexpected = failed, flaky cannot happen (retries: 0). */
function countPlaywright(report) {
  const s = report.stats ?? {}
  return { passed: (s.expected ?? 0) + (s.flaky ?? 0), failed: (s.unexpected ?? 0) + (report.errors?.length ?? 0) }
}

const reports = {
  'test:unit': { file: 'vitest.json', count: countVitest },
  'test:e2e': { file: 'e2e.json', count: countPlaywright },
}

function summarize() {
  const stages = readJson('stages.json')
  if (!Array.isArray(stages) || stages.length === 0) throw new Error(`${dir}/stages.json missing or empty`)
  let passed = 0
  let failed = 0
  for (const { name, status } of stages) {
    const spec = reports[name]
    const report = spec && status !== 'not-run' ? readJson(spec.file) : null
    let c
    if (report) c = spec.count(report)
    else c = status === 'passed' && !spec ? { passed: 1, failed: 0 } : { passed: 0, failed: 0 }
    if (status !== 'passed' && c.failed === 0) c.failed = 1
    if (status === 'passed' && spec && !report) c.failed = 1 // a test stage must leave its report
    console.log(`ci: ${name.padEnd(16)} ${status.padEnd(8)} ${c.passed} passed, ${c.failed} failed`)
    passed += c.passed
    failed += c.failed
  }
  return { passed, failed }
}

let result
try {
  result = summarize()
} catch (err) {
  console.log(`ci: summary failed: ${err instanceof Error ? err.message : String(err)}`)
  result = { passed: 0, failed: 1 }
}
console.log(`${result.passed} passed, ${result.failed} failed`)
process.exitCode = result.failed > 0 ? 1 : 0
