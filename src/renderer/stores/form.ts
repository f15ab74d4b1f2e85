// The training form as the user edits it, what it is worth (its problems by field, the network it
// describes) and the data preview it is shown with. Edits only: when an edit rebuilds or updates
// the session is the session store's business (it watches this form).
import { defineStore } from 'pinia'
import { computed, reactive, ref, shallowRef } from 'vue'
import type { RequestResult } from '../../shared/protocol'
import { getEngineClient } from '../engine'
import { useConnectionStore } from './connection'
import { buildData, defaultForm, type CreatePayload, type SessionForm } from './session-form'
import { formIssues, validateForm } from './session-form-issues'
import { formFromSpec } from './session-form-load'
import { blockIssues, issuesLine } from './session-blocks'
import { formTask, networkShape } from './session-shape'
import { chooseL2, followDataL2, isDataL2 } from './l2-default'
import { PLAIN_BLOCK, blocksOf, type BlockOptions } from '../../shared/model-blocks'

export const useFormStore = defineStore('form', () => {
  const client = getEngineClient()
  const connection = useConnectionStore()
  const form = reactive<SessionForm>(defaultForm())
  const preview = shallowRef<RequestResult<'dataset.preview'> | null>(null)
  /** The data spec (JSON) that `preview` shows. */
  const previewKey = ref<string | null>(null)

  const dataKey = computed(() => JSON.stringify(buildData(form)))
  /** The preview when it is of the form's current data, else null. */
  const freshPreview = computed(() => (preview.value && previewKey.value === dataKey.value ? preview.value : null))
  /** The network the form describes (input → hidden… → output, parameters), computed locally. */
  const shape = computed(() => networkShape(form, connection.hello, freshPreview.value))
  /** The task of the form's data; null while unknown (a CSV's auto task until its preview). */
  const task = computed(() => formTask(form, connection.hello, freshPreview.value))
  followDataL2(form, () => task.value)
  /** Blocks the host would refuse (a residual across widths, BatchNorm on batches of one). */
  const blockRefusals = computed(() => blockIssues(form, shape.value?.inputs ?? null))
  /** What is wrong with the form in one line (null when nothing is): no session is built from it. */
  const formError = computed(() => validateForm(form) ?? issuesLine(blockRefusals.value))
  /** The form's problems by spec path, for messages next to their fields. */
  const issues = computed(() => ({ ...formIssues(form), ...blockRefusals.value }))

  let previewTicket = 0
  /**
   * Preview the form's data (skipped while the source has nothing chosen, e.g. no upload yet).
   * Only the latest call's reply is kept, and only its failure is thrown.
   */
  async function loadPreview(): Promise<void> {
    const ticket = ++previewTicket
    const data = buildData(form)
    const key = JSON.stringify(data)
    if (Object.keys(issues.value).some((p) => p.startsWith('data.'))) return
    try {
      const result = await client.request('dataset.preview', data)
      if (ticket === previewTicket) {
        preview.value = result
        previewKey.value = key
      }
    } catch (err) {
      if (ticket === previewTicket) throw err
    }
  }

  /**
   * Ask the host whether `data` can be used (a CSV with its target and features): null when it
   * can, else the host's message (it names the row/column). Changes nothing.
   */
  async function probeData(data: CreatePayload['data']): Promise<string | null> {
    try {
      await client.request('dataset.preview', data)
      return null
    } catch (err) {
      return (err instanceof Error ? err.message : String(err)).replace(/^dataset\.preview: /, '')
    }
  }

  /**
   * Make the form say what `spec` says (a session adopted from a run). Its L2 keeps following the
   * data only when it is the data's default (else it is that run's choice, never overwritten).
   */
  function mirror(spec: CreatePayload): void {
    const next = formFromSpec(spec)
    next.l2Auto = isDataL2(next, formTask(next, connection.hello, null))
    Object.assign(form, next)
  }

  /** The user's own L2 (the data's default no longer applies). */
  function setL2(value: number): void {
    chooseL2(form, value)
  }

  function addLayer(): void {
    if (form.hidden.length >= (connection.hello?.limits.maxHiddenLayers ?? 16)) return
    form.hidden.push(form.hidden.at(-1) ?? 8)
    form.activations.push(form.activations.at(-1) ?? 'tanh')
    form.blocks.push({ ...PLAIN_BLOCK })
  }
  function removeLayer(index: number): void {
    for (const list of [form.hidden, form.activations, form.blocks] as unknown[][]) list.splice(index, 1)
  }
  /** Move hidden layer `index` by `by` places (−1: towards the input), with its activation and block. */
  function moveLayer(index: number, by: number): void {
    const to = index + by
    if (to < 0 || to >= form.hidden.length) return
    for (const list of [form.hidden, form.activations, form.blocks] as unknown[][]) list.splice(to, 0, ...list.splice(index, 1))
  }
  /** Change hidden layer `index`'s block (norm, where it sits, dropout, residual). */
  function setBlock(index: number, patch: Partial<BlockOptions>): void {
    if (index >= form.hidden.length) return
    // A form whose hidden layers were set without their blocks (older code, tests) is aligned first.
    if (form.blocks.length !== form.hidden.length) form.blocks = blocksOf(form.hidden.length, form.blocks)
    Object.assign(form.blocks[index]!, patch)
  }
  /** The same activation for every hidden layer. */
  function setAllActivations(a: SessionForm['activations'][number]): void {
    form.activations = form.hidden.map(() => a)
  }
  function regenerate(): void {
    const seed = Math.floor(Math.random() * 1_000_000)
    if (form.source === 'generator') form.data.seed = seed
    else form[form.source].seed = seed
  }

  return {
    form,
    preview,
    formError,
    issues,
    dataKey,
    freshPreview,
    shape,
    task,
    loadPreview,
    probeData,
    mirror,
    setL2,
    addLayer,
    removeLayer,
    moveLayer,
    setBlock,
    setAllActivations,
    regenerate,
  }
})
