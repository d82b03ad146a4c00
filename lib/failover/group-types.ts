/**
 * The destination-group model: a named set of destinations served by one routing method, kept
 * healthy by background probes. Groups are declared under `"groups"` in the destinations file or
 * with `registerDestinationGroup`, and are then used by name like a destination.
 */
import type { StatusRange } from './status-range'

/** `priority`: lowest healthy priority number wins. `weighted`: smooth weighted split among healthy members. */
export type RoutingMethod = 'priority' | 'weighted'

/**
 * When a request moves to the next member: `connect-error` (refused, reset or closed before any
 * response byte), `timeout`, or an HTTP status the member answered with (e.g. `503`).
 */
export type RetryCondition = 'connect-error' | 'timeout' | number

export interface GroupMember {
  /** Name of the member destination. */
  readonly destination: string
  /** `priority` routing: lower wins (unique within the group). */
  readonly priority: number
  /** `weighted` routing: share of the traffic (1 … 1000). */
  readonly weight: number
}

export interface ProbeSettings {
  /** Path (and query) requested on each HTTP member, relative to the member URL. Unused for TCP members. */
  readonly path: string
  readonly method: 'GET' | 'HEAD' | 'OPTIONS'
  readonly expectedStatus: readonly StatusRange[]
  readonly intervalMs: number
  readonly timeoutMs: number
  /** Consecutive failures (probes, or real requests) after which a member is marked down. */
  readonly toleratedFailures: number
  /** Consecutive successful probes after which a down member is back. */
  readonly requiredSuccesses: number
  readonly headers: Readonly<Record<string, string>>
  /** Send the member's credentials with probes (default false: expect e.g. 401, as in the seed). */
  readonly sendCredentials: boolean
}

/** A validated, frozen destination group. */
export interface DestinationGroup {
  readonly name: string
  readonly routing: RoutingMethod
  /** Sorted by priority (priority routing) or declaration order (weighted). */
  readonly members: readonly GroupMember[]
  readonly probe: ProbeSettings
  /** Priority routing: go back to a better member as soon as it is healthy again (default true). */
  readonly failback: boolean
  readonly retryOn: readonly RetryCondition[]
  /** File path or `registerDestinationGroup`, for messages. */
  readonly origin: string
}

/** The JSON shape accepted in the destinations file and by `registerDestinationGroup`. */
export interface DestinationGroupInput {
  name: string
  /** Free text for people reading the file. */
  description?: string
  routing?: RoutingMethod
  members: ReadonlyArray<{ destination: string; priority?: number; weight?: number }>
  probe?: {
    path?: string
    method?: string
    expectedStatus?: ReadonlyArray<string | number>
    intervalSeconds?: number
    timeoutSeconds?: number
    toleratedFailures?: number
    requiredSuccesses?: number
    headers?: Readonly<Record<string, string>>
    sendCredentials?: boolean
  }
  failback?: boolean
  retryOn?: ReadonlyArray<string | number>
}

/** The health of one member as reported by `getGroupStatus`. */
export interface MemberStatus {
  readonly destination: string
  readonly healthy: boolean
  readonly priority?: number
  readonly weight?: number
  /** Consecutive failed probes (real traffic does not reset it). */
  readonly consecutiveFailures: number
  /** Consecutive failed real requests. */
  readonly passiveFailures: number
  /** True while a drill holds the member down. */
  readonly drillOutage: boolean
  readonly lastProbe?: { readonly at: string; readonly status?: number; readonly error?: string }
}

export interface GroupStatus {
  readonly name: string
  readonly routing: RoutingMethod
  /** Priority routing: the member now receiving traffic; weighted: the member that served the last request. */
  readonly active?: string
  /** True while background probes run (they start on first use and stop when the group is idle). */
  readonly probing: boolean
  readonly members: readonly MemberStatus[]
}
