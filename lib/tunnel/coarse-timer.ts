/**
 * Coarse timeouts for things that almost never time out (a stream being opened, a backend being
 * connected): one shared, unref'd timer for the process instead of one Node timer per item.
 * Arming and clearing a timer for every open was ~30 µs of a ~480 µs stream open across three
 * processes. A deadline fires at most {@link RESOLUTION_MS} late.
 */
export const RESOLUTION_MS = 25

interface Entry {
  readonly at: number
  readonly fn: () => void
}

const entries = new Set<Entry>()
let ticker: NodeJS.Timeout | undefined

function sweep(): void {
  const now = performance.now()
  const due: Entry[] = []
  for (const e of entries) if (e.at <= now) due.push(e)
  for (const e of due) entries.delete(e)
  if (entries.size === 0 && ticker) {
    clearInterval(ticker)
    ticker = undefined
  }
  for (const e of due) e.fn()
}

/** Runs `fn` once, `ms` (plus up to RESOLUTION_MS) from now; the returned function cancels it. */
export function coarseTimeout(ms: number, fn: () => void): () => void {
  const entry: Entry = { at: performance.now() + ms, fn }
  entries.add(entry)
  if (!ticker) {
    ticker = setInterval(sweep, RESOLUTION_MS)
    ticker.unref()
  }
  return () => {
    entries.delete(entry)
  }
}
