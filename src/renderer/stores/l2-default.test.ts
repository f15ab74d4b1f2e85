// The form's L2 follows the data until the user sets it: 0.01 once the data is a regression (a
// CSV's auto-detected task included, known from its preview), 0 again for a classification set; a
// user's own value, a run's value and a link's value are never replaced.
import { createPinia, setActivePinia } from 'pinia'
import { describe, expect, it, vi } from 'vitest'
import { FakeHost } from '../engine/fake-host'
import { PREVIEW_DELAY_MS, REBUILD_DELAY_MS, UPDATE_DELAY_MS, useSessionStore } from './session'
import { useFormStore } from './form'
import { decodeLink, encodeLink } from './link-codec'
import { buildSpec } from './session-form'
import { REGRESSION_L2 } from './l2-default'
import { useFakeHost } from './fake-host-setup'

let host: FakeHost
/** Twelve houses: price has more distinct values than a class column would (the host's rule). */
const HOUSES = [
  'rooms,area,city,price',
  ...Array.from({ length: 12 }, (_, i) => `${2 + (i % 4)},${50 + 7 * i},${'ab'[i % 2]},${150 + 20 * i}`),
].join('\n')

useFakeHost((h) => (host = h))

/** The studio started, its form and session store. */
async function studio() {
  const session = useSessionStore()
  await session.init()
  await settle()
  return { session, formStore: useFormStore() }
}
const settle = () => vi.advanceTimersByTimeAsync(PREVIEW_DELAY_MS + REBUILD_DELAY_MS + UPDATE_DELAY_MS)

/** Use the houses CSV with `target` (its task left to the host: price is a regression, city is not). */
function useHouses(formStore: ReturnType<typeof useFormStore>, target: string): void {
  const file = host.addFile('houses.csv', HOUSES)
  formStore.form.csv = { ...formStore.form.csv, fileId: file.fileId, target, features: null, task: 'auto' }
  formStore.form.source = 'csv'
}

describe('L2 follows the data until the user sets it', () => {
  it('a regression CSV (its task detected by the host) sets L2 0.01, and the session trains with it; a classification set restores 0', async () => {
    const { session, formStore } = await studio()
    expect(formStore.form.l2).toBe(0)
    useHouses(formStore, 'price')
    expect(formStore.form.l2).toBe(0) // the task is not known before the preview says it
    await settle()
    expect(formStore.task).toBe('regression')
    expect(formStore.form.l2).toBe(REGRESSION_L2)
    expect(session.info?.spec.data).toMatchObject({ source: 'csv', target: 'price' })
    expect(session.info?.spec.train.l2).toBe(REGRESSION_L2)

    formStore.form.csv.target = 'city'
    await settle()
    expect(formStore.task).toBe('binary')
    expect(formStore.form.l2).toBe(0)
    formStore.form.csv.task = 'regression'
    formStore.form.csv.target = 'price'
    await settle()
    expect(formStore.form.l2).toBe(REGRESSION_L2)
    formStore.form.source = 'bundled'
    await settle()
    expect(formStore.form.l2).toBe(0)
    formStore.form.source = 'generator'
    formStore.form.data.generator = 'reg-plane' // a regression generator counts too
    await settle()
    expect(formStore.form.l2).toBe(REGRESSION_L2)
  })

  it('never replaces a value the user set, 0 included', async () => {
    const { session, formStore } = await studio()
    useHouses(formStore, 'price')
    await settle()
    formStore.setL2(0)
    formStore.form.source = 'bundled'
    await settle()
    formStore.form.source = 'csv'
    await settle()
    expect(formStore.form).toMatchObject({ l2: 0, l2Auto: false })
    expect(session.info?.spec.train.l2).toBe(0)

    formStore.setL2(0.05)
    formStore.form.source = 'bundled'
    await settle()
    expect(formStore.form.l2).toBe(0.05)
  })

  it('a run opened keeps its L2; it follows the data afterwards only when it is its data’s default', async () => {
    const { formStore } = await studio()
    const base = buildSpec(formStore.form)
    formStore.mirror({ ...base, data: { source: 'csv', fileId: host.addFile('houses.csv', HOUSES).fileId, target: 'price' } })
    await settle()
    expect(formStore.task).toBe('regression')
    expect(formStore.form).toMatchObject({ l2: 0, l2Auto: false }) // a run from before the default

    formStore.mirror({ ...base, data: { generator: 'spiral' } })
    expect(formStore.form.l2Auto).toBe(true) // 0 is the spiral's default
    formStore.form.data.generator = 'reg-plane'
    await settle()
    expect(formStore.form.l2).toBe(REGRESSION_L2)
  })

  it('a link made with the default reopens the same experiment, and so does one where the user set 0', async () => {
    const first = await studio()
    useHouses(first.formStore, 'price')
    await settle()
    const withDefault = encodeLink(first.formStore.form)
    first.formStore.setL2(0)
    const ownZero = encodeLink(first.formStore.form)

    for (const [link, l2] of [
      [withDefault, REGRESSION_L2],
      [ownZero, 0],
    ] as const) {
      setActivePinia(createPinia())
      const { formStore } = await studio()
      const decoded = decodeLink(link)!.form!
      Object.assign(formStore.form, decoded) // what the link store does on open
      await settle()
      expect(formStore.task).toBe('regression')
      expect(formStore.form.l2).toBe(l2)
      expect(buildSpec(formStore.form)).toEqual(buildSpec(decoded))
      expect(encodeLink(formStore.form)).toBe(link)
    }
  })
})
