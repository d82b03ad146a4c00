/**
 * Expected status code ranges of a health probe, written as in Azure Traffic Manager:
 * `"200-299"`, `"401"`. Parsed once when a group is defined, matched on every probe.
 */

/** An inclusive HTTP status range. */
export interface StatusRange {
  readonly from: number
  readonly to: number
}

const RANGE = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/

/**
 * Parses one range such as `"200-299"` or `"401"` (a number is accepted too).
 * Returns `undefined` for anything else, so the caller can name the group and member in its error.
 */
export function parseStatusRange(input: unknown): StatusRange | undefined {
  const text = typeof input === 'number' && Number.isInteger(input) ? String(input) : input
  if (typeof text !== 'string') return undefined
  const m = RANGE.exec(text)
  if (!m) return undefined
  const from = Number(m[1])
  const to = m[2] === undefined ? from : Number(m[2])
  if (from < 100 || to > 599 || from > to) return undefined
  return { from, to }
}

/** True when `status` falls into one of the ranges. */
export function matchesStatus(status: number, ranges: readonly StatusRange[]): boolean {
  for (const r of ranges) if (status >= r.from && status <= r.to) return true
  return false
}

/** `"200-299, 401"` — for messages and the status report. */
export function formatStatusRanges(ranges: readonly StatusRange[]): string {
  return ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(', ')
}
