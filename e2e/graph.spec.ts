// Serve mode in Chromium: the computation graph and network views of a 2-layer MLP on the spiral.
// The graph shows the matmul → add → tanh chain down to the loss, updates while training runs,
// and explains a matmul's backward rule with its shapes; the network view draws neurons and
// edges, shows exact numbers on hover, switches edges from weights to gradients, and a gradient
// check agrees with finite differences. No CSP violation may happen on the way (ELK, Vue Flow).
import { mkdirSync } from 'node:fs'
import { expect, test, type Page } from '@playwright/test'
import { appPath } from './serve-token'

const SHOTS = 'test-results/screenshots'

interface DrawnNode {
  id: number
  op: string
  kind: string
  label: string
  inputs: number[]
  gradNorm: number
}

async function drawnNodes(page: Page): Promise<DrawnNode[]> {
  return page.locator('[data-testid^="graph-node-"]').evaluateAll((els) =>
    els.map((el) => ({
      id: Number(el.getAttribute('data-testid')!.replace('graph-node-', '')),
      op: el.getAttribute('data-op') ?? '',
      kind: el.getAttribute('data-kind') ?? '',
      label: el.getAttribute('data-label') ?? '',
      inputs: (el.getAttribute('data-inputs') ?? '').split(',').filter(Boolean).map(Number),
      gradNorm: Number(el.getAttribute('data-grad-norm') || NaN),
    })),
  )
}

/** The shortest chain of nodes from the input to the loss, following the data. */
function pathToLoss(nodes: DrawnNode[]): DrawnNode[] {
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const start = nodes.find((n) => n.label === 'input x')!
  const prev = new Map<number, number>()
  const queue = [start.id]
  const seen = new Set(queue)
  while (queue.length) {
    const id = queue.shift()!
    for (const n of nodes) {
      if (n.inputs.includes(id) && !seen.has(n.id)) {
        seen.add(n.id)
        prev.set(n.id, id)
        queue.push(n.id)
      }
    }
  }
  const loss = nodes.find((n) => n.kind === 'loss')!
  const path = [loss]
  while (path[0]!.id !== start.id) path.unshift(byId.get(prev.get(path[0]!.id)!)!)
  return path
}

async function setUpSpiral(page: Page): Promise<void> {
  await page.goto(appPath())
  await expect(page.getByTestId('connection-status')).toHaveText(/engine connected/)
  await page.getByTestId('generator-spiral').click()
  while ((await page.locator('[data-testid^="layer-width-"]').count()) > 2) await page.getByTestId('remove-layer-0').click()
  while ((await page.locator('[data-testid^="layer-width-"]').count()) < 2) await page.getByTestId('add-layer').click()
  await page.getByTestId('layer-width-0').fill('10')
  await page.getByTestId('layer-width-1').fill('10')
  await page.getByTestId('activation-select').selectOption('tanh')
  await page.getByTestId('lr-input').fill('0.02')
  await expect(page.getByTestId('param-count')).toContainText('162 parameters', { timeout: 15_000 })
}

test.describe('seeing backprop: graph and network views', () => {
  test.use({ viewport: { width: 1440, height: 900 } })

  test('the graph view shows the chain to the loss, updates live and explains a matmul’s VJP', async ({ page }) => {
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`))
    // Runs in the page before the app (a string: the e2e program has no DOM types).
    await page.addInitScript({
      content: `window.cspViolations = []; document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' at ' + e.sourceFile + ':' + e.lineNumber))`,
    })
    const violations = () => page.evaluate(() => (globalThis as unknown as { cspViolations: string[] }).cspViolations)
    await setUpSpiral(page)
    // Opening the graph view (ELK's layout, Vue Flow's drawing and stylesheet) adds no CSP violation
    // to whatever the app did before (zod probes `new Function` once when it first parses).
    const cspBefore = await violations()

    await page.getByTestId('tab-graph').click()
    const canvas = page.getByTestId('graph-canvas')
    await expect(canvas).toHaveAttribute('data-layout', 'ready', { timeout: 20_000 })
    await expect(page.locator('[data-testid^="graph-node-"]').first()).toBeVisible()

    // The forward chain, in order, from the input to the loss.
    const nodes = await drawnNodes(page)
    const path = pathToLoss(nodes)
    const ops = path.map((n) => n.op)
    expect(ops.slice(0, 9)).toEqual(['', 'matmul', 'add', 'tanh', 'matmul', 'add', 'tanh', 'matmul', 'add'])
    expect(path.at(-1)!.kind).toBe('loss')
    const weights = nodes
      .filter((n) => n.kind === 'parameter')
      .map((n) => n.label)
      .sort()
    expect(weights).toEqual(['layers.0.bias', 'layers.0.weight', 'layers.1.bias', 'layers.1.weight', 'layers.2.bias', 'layers.2.weight'])
    // Every matmul's second operand is a weight, every bias enters through an add.
    const byId = new Map(nodes.map((n) => [n.id, n]))
    for (const mm of path.filter((n) => n.op === 'matmul')) expect(byId.get(mm.inputs[1]!)!.label).toMatch(/^layers\.\d\.weight$/)

    // Numbers update as training runs, without a relayout.
    const w0 = nodes.find((n) => n.label === 'layers.0.weight')!
    const w0Node = page.getByTestId(`graph-node-${w0.id}`)
    const before = Number(await w0Node.getAttribute('data-grad-norm'))
    const stepBefore = Number(await page.getByTestId('graph-meta').getAttribute('data-step'))
    await page.getByTestId('tab-studio').click()
    await page.getByTestId('play-button').click()
    await expect(page.getByTestId('session-status')).toHaveText('running')
    await page.getByTestId('tab-graph').click()
    await expect
      .poll(async () => Number(await page.getByTestId('graph-meta').getAttribute('data-step')), { timeout: 15_000 })
      .toBeGreaterThan(stepBefore + 20)
    await expect.poll(async () => Number(await w0Node.getAttribute('data-grad-norm')), { timeout: 15_000 }).not.toBe(before)
    expect((await drawnNodes(page)).map((n) => `${n.id}:${n.op}`)).toEqual(nodes.map((n) => `${n.id}:${n.op}`))
    await page.getByTestId('tab-studio').click()
    await page.getByTestId('pause-button').click()
    await expect(page.getByTestId('session-status')).toHaveText('paused')
    await page.getByTestId('tab-graph').click()

    // The first matmul: x [4,2] · W [2,10]. Its VJP, with shapes and the Jacobian it never forms.
    const firstMatmul = path[1]!
    await page.getByTestId(`graph-node-${firstMatmul.id}`).click()
    const panel = page.getByTestId('vjp-panel')
    await expect(panel).toHaveAttribute('data-node', String(firstMatmul.id))
    await expect(panel.getByTestId('vjp-rule')).toContainText('dA = dC·Bᵀ')
    await expect(panel.getByTestId('vjp-rule')).toContainText('[4,10]·[10,2] → [4,2]')
    await expect(panel.getByTestId('vjp-rule')).toContainText('dB = Aᵀ·dC')
    await expect(panel.getByTestId('vjp-rule')).toContainText('[2,4]·[4,10] → [2,10]')
    await expect(panel.getByTestId('vjp-jacobian')).toContainText('never formed')

    // A gradient check on a parameter node agrees with central differences.
    const w1 = nodes.find((n) => n.label === 'layers.1.weight')!
    await page.getByTestId(`gradcheck-node-${w1.id}`).click()
    const result = page.getByTestId(`graph-node-${w1.id}`).getByTestId('gradcheck-result')
    await expect(result).toBeVisible({ timeout: 20_000 })
    expect(Number(await result.getAttribute('data-value'))).toBeLessThan(1e-4)

    // Select the second matmul for the screenshot: its rule reads [4,10]·[10,10].
    await page.getByTestId(`graph-node-${path[4]!.id}`).click()
    await expect(panel.getByTestId('vjp-rule')).toContainText('[4,10]·[10,10] → [4,10]')
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: `${SHOTS}/graph-view.png` })
    expect(await violations()).toEqual(cspBefore)
    expect(problems).toEqual([])
  })

  test('the network view draws neurons and edges, hovers with numbers, toggles edges and checks a gradient', async ({ page }) => {
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`))
    await setUpSpiral(page)
    await page.getByTestId('step-button').click()
    await expect(page.getByTestId('status-step')).toHaveAttribute('data-value', '1')
    await page.getByTestId('play-button').click()
    await expect.poll(async () => Number(await page.getByTestId('status-step').getAttribute('data-value'))).toBeGreaterThan(200)

    await page.getByTestId('tab-network').click()
    const canvas = page.getByTestId('network-canvas')
    await expect.poll(async () => Number(await canvas.getAttribute('data-draws'))).toBeGreaterThan(0)
    // Live: the drawing follows the running session.
    const step0 = Number(await canvas.getAttribute('data-step'))
    await expect.poll(async () => Number(await canvas.getAttribute('data-step')), { timeout: 10_000 }).toBeGreaterThan(step0)
    await expect(page.getByTestId('edge-count')).toHaveAttribute('data-total', String(2 * 10 + 10 * 10 + 10 * 2))
    await page.getByTestId('tab-studio').click()
    await page.getByTestId('pause-button').click()
    await expect(page.getByTestId('session-status')).toHaveText('paused')
    await page.getByTestId('tab-network').click()

    const anchors = JSON.parse((await canvas.getAttribute('data-anchors')) ?? '[]') as { kind: string; x: number; y: number }[]
    expect(anchors.filter((a) => a.kind === 'neuron')).toHaveLength(4)
    expect(anchors.filter((a) => a.kind === 'edge')).toHaveLength(3)
    const box = (await canvas.boundingBox())!
    const hidden = anchors.filter((a) => a.kind === 'neuron')[1]!
    await page.mouse.move(box.x + hidden.x, box.y + hidden.y)
    const tooltip = page.getByTestId('network-tooltip')
    await expect(tooltip).toContainText('hidden 1 #0')
    await expect(tooltip).toContainText('mean ∂L/∂activation')
    const edge = anchors.filter((a) => a.kind === 'edge')[1]!
    await page.mouse.move(box.x + edge.x, box.y + edge.y)
    await expect(tooltip).toContainText('weight')
    await expect(tooltip).toContainText('∂L/∂w')
    await expect(tooltip).toContainText('last update Δw')

    // Edges by gradient instead of weight: a different picture.
    const drawing = () => canvas.evaluate((c) => (c as unknown as { toDataURL(): string }).toDataURL())
    const byWeight = await drawing()
    const draws = Number(await canvas.getAttribute('data-draws'))
    await page.getByTestId('edge-mode-toggle').click()
    await expect(canvas).toHaveAttribute('data-edge-mode', 'gradient')
    await expect.poll(async () => Number(await canvas.getAttribute('data-draws'))).toBeGreaterThan(draws)
    expect(await drawing()).not.toBe(byWeight)

    // Gradient check of the hidden layer's weights.
    await page.getByTestId('gradcheck-1').click()
    const result = page.getByTestId('layer-header-1').getByTestId('gradcheck-result')
    await expect(result).toBeVisible({ timeout: 20_000 })
    expect(Number(await result.getAttribute('data-value'))).toBeLessThan(1e-4)

    // A neuron's map over the input plane.
    await page.mouse.click(box.x + hidden.x, box.y + hidden.y)
    await expect(page.getByTestId('neuron-map')).not.toHaveAttribute('data-resolution', '0')
    await page.mouse.move(box.x + edge.x, box.y + edge.y)
    await expect(tooltip).toBeVisible()
    mkdirSync(SHOTS, { recursive: true })
    await page.screenshot({ path: `${SHOTS}/network-view.png` })
    expect(problems).toEqual([])
  })
})
