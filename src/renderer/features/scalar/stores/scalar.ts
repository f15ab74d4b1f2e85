// The scalar explainer's state: the program text, the host's evaluation of it (nodes, the backward
// steps, the `=` variant), and where the step-through replay stands. Everything shown is derived
// from the host's steps; the renderer never differentiates anything itself.
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { getEngineClient } from '../../../engine'
import { DEFAULT_PRESET, SCALAR_PRESETS } from '../presets'
import { FORWARD, contributionsAt, gradsAt, nameNodes, stepAt, useCounts, type ScalarProgram } from '../composables/use-scalar-replay'
import { locateError, stripKind, type SourceError } from '../composables/use-scalar-source'

export const useScalarStore = defineStore('scalar', () => {
  const source = ref(DEFAULT_PRESET.source)
  const presetId = ref<string | null>(DEFAULT_PRESET.id)
  const program = shallowRef<ScalarProgram | null>(null)
  /** The text `program` was evaluated from, to tell when the editor has moved on. */
  const evaluated = ref<string | null>(null)
  const error = shallowRef<SourceError | null>(null)
  const busy = ref(false)
  const position = ref(FORWARD)
  const showWrong = ref(false)

  const stepCount = computed(() => program.value?.steps.length ?? 0)
  const edited = computed(() => program.value !== null && evaluated.value !== source.value)
  const names = computed(() => nameNodes(program.value?.nodes ?? []))
  const nodesById = computed(() => new Map((program.value?.nodes ?? []).map((n) => [n.id, n])))
  const grads = computed(() =>
    program.value ? gradsAt(program.value.rootId, program.value.steps, position.value) : new Map<number, number>(),
  )
  const wrongGrads = computed(() =>
    program.value ? gradsAt(program.value.rootId, program.value.wrongSteps, position.value) : new Map<number, number>(),
  )
  const contributions = computed(() => contributionsAt(program.value?.steps ?? [], position.value))
  const uses = computed(() => useCounts(program.value?.steps ?? []))
  const current = computed(() => stepAt(program.value?.steps ?? [], position.value))
  const currentWrong = computed(() => stepAt(program.value?.wrongSteps ?? [], position.value))
  const done = computed(() => program.value !== null && position.value === stepCount.value)

  let ticket = 0
  /**
   * A move pressed while Forward is still on its way (Full backward right after Forward): it
   * applies to the program that is coming, once it lands, instead of being dropped.
   */
  let pendingMove: (() => void) | null = null
  /** Evaluates the editor's text on the host and shows its forward pass (data, no grads yet). */
  async function forward(): Promise<void> {
    const text = source.value
    const mine = ++ticket
    busy.value = true
    try {
      const result = await getEngineClient().request('scalar.evaluate', { source: text })
      if (mine !== ticket) return
      program.value = result
      evaluated.value = text
      position.value = FORWARD
      error.value = null
      pendingMove?.()
    } catch (err) {
      if (mine !== ticket) return
      error.value = locateError(stripKind(err instanceof Error ? err.message : String(err)), text)
    } finally {
      if (mine === ticket) {
        busy.value = false
        pendingMove = null
      }
    }
  }

  function loadPreset(id: string): Promise<void> {
    const preset = SCALAR_PRESETS.find((p) => p.id === id)
    if (!preset) return Promise.resolve()
    source.value = preset.source
    presetId.value = preset.id
    return forward()
  }

  function edit(text: string): void {
    source.value = text
    presetId.value = SCALAR_PRESETS.find((p) => p.source === text)?.id ?? null
  }

  /** While Forward is in flight, a move waits for its program (the last one pressed wins). */
  function move(apply: () => void): void {
    if (busy.value) pendingMove = apply
    else apply()
  }
  function stepBackward(): void {
    move(() => {
      if (program.value && position.value < stepCount.value) position.value++
    })
  }
  function undo(): void {
    move(() => {
      if (position.value > FORWARD) position.value--
    })
  }
  function fullBackward(): void {
    move(() => {
      if (program.value) position.value = stepCount.value
    })
  }
  function reset(): void {
    move(() => (position.value = FORWARD))
  }

  return {
    source,
    presetId,
    program,
    error,
    busy,
    position,
    showWrong,
    stepCount,
    edited,
    names,
    nodesById,
    grads,
    wrongGrads,
    contributions,
    uses,
    current,
    currentWrong,
    done,
    forward,
    loadPreset,
    edit,
    stepBackward,
    undo,
    fullBackward,
    reset,
  }
})
