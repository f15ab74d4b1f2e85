// Long work on the engine host's thread (reading or compacting a big metrics log, indexing
// thousands of runs) runs in bounded slices: a piece of about a megabyte or a few milliseconds,
// then a turn of the event loop, so requests and training slices are served in between.
/** Hands the thread back to the event loop once; tests inject one that counts the turns. */
export type YieldFn = () => Promise<void>

/** One turn of the event loop: pending I/O, timers and other requests run before this resolves. */
export const nextTurn: YieldFn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Work done in one slice before yielding, when the unit is bytes. */
export const SLICE_BYTES = 1 << 20
