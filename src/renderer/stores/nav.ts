// Which studio tab is shown, so a view can send the user to another (Runs → "Open in studio").
import { defineStore } from 'pinia'
import { ref } from 'vue'

export const useNavStore = defineStore('nav', () => {
  /** A view id from features/registry.ts; App.vue falls back to the first view for an unknown one. */
  const activeId = ref('studio')
  function show(id: string): void {
    activeId.value = id
  }
  return { activeId, show }
})
