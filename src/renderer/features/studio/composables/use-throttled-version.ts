// A copy of a fast-moving version counter that follows it at most every `ms` (and once more after
// the last change), for tables and text that need not redraw at every metrics batch.
import { onBeforeUnmount, shallowRef, watch, type WatchSource } from 'vue'

export function useThrottledVersion(source: WatchSource<number>, ms = 250) {
  const version = shallowRef(0)
  let timer: ReturnType<typeof setTimeout> | null = null
  let last = 0
  watch(source, () => {
    if (timer) return
    const wait = Math.max(0, last + ms - Date.now())
    timer = setTimeout(() => {
      timer = null
      last = Date.now()
      version.value++
    }, wait)
  })
  onBeforeUnmount(() => timer && clearTimeout(timer))
  return version
}
