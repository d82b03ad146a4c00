/**
 * Routing methods: which member a request tries first, and in which order it moves on.
 * Pure functions over the member list and a health predicate, so they are easy to reason about.
 */
import type { GroupMember } from './group-types'

/**
 * Priority order of the healthy members. With `sticky` (fail-back disabled) the member currently
 * serving stays first as long as it is healthy, even when a better one has recovered.
 */
export function priorityOrder(
  members: readonly GroupMember[],
  isUp: (m: GroupMember) => boolean,
  sticky?: string,
): GroupMember[] {
  const up = members.filter(isUp)
  if (sticky === undefined) return up
  const i = up.findIndex((m) => m.destination === sticky)
  if (i <= 0) return up
  return [up[i] as GroupMember, ...up.slice(0, i), ...up.slice(i + 1)]
}

/**
 * Smooth weighted round robin (the nginx algorithm): every pick adds each member's weight to its
 * running score, takes the highest and subtracts the total. Weights 5:1:1 give A A B A C A A
 * instead of bursts, and members leaving or joining the healthy set shift the split at once.
 */
export class SmoothWeighted {
  readonly #current = new Map<string, number>()

  /** Picks the next member among `up` and returns it first, the others by weight as fallbacks. */
  order(up: readonly GroupMember[]): GroupMember[] {
    if (up.length <= 1) return [...up]
    let total = 0
    let best: GroupMember | undefined
    let bestScore = Number.NEGATIVE_INFINITY
    for (const m of up) {
      const score = (this.#current.get(m.destination) ?? 0) + m.weight
      this.#current.set(m.destination, score)
      total += m.weight
      if (score > bestScore) {
        bestScore = score
        best = m
      }
    }
    const chosen = best as GroupMember
    this.#current.set(chosen.destination, bestScore - total)
    const rest = up.filter((m) => m !== chosen).sort((a, b) => b.weight - a.weight)
    return [chosen, ...rest]
  }

  /** Forgets a member's score (it went down), so it does not return with a burst of backlog. */
  reset(destination: string): void {
    this.#current.delete(destination)
  }
}
