/**
 * Validation of destination groups. Input arrives as `unknown` (JSON file or API call) and is
 * checked once; every problem is a DESTINATION_INVALID error naming the group, the property and
 * what was expected.
 */
import { DestinationError } from '../errors'
import type {
  DestinationGroup,
  GroupMember,
  ProbeSettings,
  RetryCondition,
  RoutingMethod,
} from './group-types'
import { parseStatusRange, type StatusRange } from './status-range'

export interface ParseGroupContext {
  /** Where the group was declared (file path), for messages. */
  readonly origin?: string
  /** When given, every member must be one of these destination names (e.g. the file's own destinations). */
  readonly knownDestinations?: ReadonlySet<string>
}

const GROUP_KEYS = new Set(['name', 'routing', 'members', 'probe', 'failback', 'retryOn', 'description'])
const MEMBER_KEYS = new Set(['destination', 'priority', 'weight'])
const PROBE_KEYS = new Set([
  'path',
  'method',
  'expectedStatus',
  'intervalSeconds',
  'timeoutSeconds',
  'toleratedFailures',
  'requiredSuccesses',
  'headers',
  'sendCredentials',
])
const NAME = /^[A-Za-z0-9_.-]{1,200}$/
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const MAX_MEMBERS = 32

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Validates one group definition and returns the frozen model.
 * @example parseGroup({ name: 'CPI', members: [{ destination: 'CPI_EU20', priority: 1 }, { destination: 'CPI_US21', priority: 2 }] })
 * @throws DestinationError DESTINATION_INVALID naming the group and the offending property.
 */
export function parseGroup(raw: unknown, ctx: ParseGroupContext = {}): DestinationGroup {
  const origin = ctx.origin ?? 'registerDestinationGroup'
  const label =
    isRecord(raw) && typeof raw.name === 'string' ? `Destination group "${raw.name}"` : 'A destination group'
  const fail = (property: string, what: string): never => {
    throw new DestinationError('DESTINATION_INVALID', `${label} (${origin}): ${what}`, {
      details: {
        group: isRecord(raw) && typeof raw.name === 'string' ? raw.name : undefined,
        property,
        origin,
      },
    })
  }
  if (!isRecord(raw)) return fail('', 'expected an object with "name" and "members".')
  for (const k of Object.keys(raw)) {
    if (!GROUP_KEYS.has(k)) fail(k, `unknown property "${k}"; allowed: ${[...GROUP_KEYS].join(', ')}.`)
  }
  if (typeof raw.name !== 'string' || !NAME.test(raw.name)) {
    fail('name', 'property "name" must be 1-200 characters of letters, digits, "_", "." or "-".')
  }
  const name = raw.name as string
  const routing = raw.routing ?? 'priority'
  if (routing !== 'priority' && routing !== 'weighted') {
    fail('routing', `property "routing" must be "priority" or "weighted", not ${JSON.stringify(routing)}.`)
  }
  const members = parseMembers(raw.members, routing as RoutingMethod, name, ctx, fail)
  const probe = parseProbe(raw.probe, fail)
  if (raw.failback !== undefined && typeof raw.failback !== 'boolean')
    fail('failback', '"failback" must be a boolean.')
  const retryOn = parseRetryOn(raw.retryOn, fail)
  return Object.freeze({
    name,
    routing: routing as RoutingMethod,
    members,
    probe,
    failback: raw.failback !== false,
    retryOn,
    origin,
  })
}

type Fail = (property: string, what: string) => never

function parseMembers(
  raw: unknown,
  routing: RoutingMethod,
  groupName: string,
  ctx: ParseGroupContext,
  fail: Fail,
): readonly GroupMember[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_MEMBERS) {
    return fail(
      'members',
      `"members" must be an array of 1-${MAX_MEMBERS} entries like { "destination": "A", "priority": 1 }.`,
    )
  }
  const seen = new Set<string>()
  const priorities = new Map<number, string>()
  const withPriority = raw.filter((m) => isRecord(m) && m.priority !== undefined).length
  if (routing === 'priority' && withPriority !== 0 && withPriority !== raw.length) {
    fail('members', 'give every member a "priority", or none (then the declaration order is the priority).')
  }
  const out = raw.map((m: unknown, i): GroupMember => {
    const at = `members[${i}]`
    if (!isRecord(m)) return fail(at, `${at} must be an object like { "destination": "A", "priority": 1 }.`)
    for (const k of Object.keys(m)) {
      if (!MEMBER_KEYS.has(k))
        fail(at, `${at} has unknown property "${k}"; allowed: destination, priority, weight.`)
    }
    const dest = m.destination
    if (typeof dest !== 'string' || !NAME.test(dest)) {
      return fail(`${at}.destination`, `${at}.destination must be a destination name.`)
    }
    if (dest === groupName) fail(`${at}.destination`, `${at} refers to the group itself.`)
    if (seen.has(dest)) fail(`${at}.destination`, `destination "${dest}" is listed twice.`)
    seen.add(dest)
    if (ctx.knownDestinations && !ctx.knownDestinations.has(dest)) {
      fail(
        `${at}.destination`,
        `member "${dest}" is not a destination of this file; declare it under "destinations".`,
      )
    }
    const priority = m.priority ?? i + 1
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 1 || priority > 1000) {
      return fail(`${at}.priority`, `${at}.priority must be an integer 1-1000 (lower wins).`)
    }
    const other = priorities.get(priority)
    if (other !== undefined && routing === 'priority') {
      fail(
        `${at}.priority`,
        `members "${other}" and "${dest}" have the same priority ${priority}; priorities must be unique.`,
      )
    }
    priorities.set(priority, dest)
    const weight = m.weight ?? 1
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > 1000) {
      return fail(`${at}.weight`, `${at}.weight must be an integer 1-1000.`)
    }
    return Object.freeze({ destination: dest, priority, weight })
  })
  if (routing === 'priority') out.sort((a, b) => a.priority - b.priority)
  return Object.freeze(out)
}

function num(
  raw: Record<string, unknown>,
  key: string,
  def: number,
  min: number,
  max: number,
  int: boolean,
  fail: Fail,
): number {
  const v = raw[key] ?? def
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
    return fail(
      `probe.${key}`,
      `probe.${key} must be ${int ? 'an integer' : 'a number'} between ${min} and ${max}.`,
    )
  }
  return v
}

function parseProbe(raw: unknown, fail: Fail): ProbeSettings {
  if (raw !== undefined && !isRecord(raw)) return fail('probe', '"probe" must be an object.')
  const p = raw ?? {}
  for (const k of Object.keys(p)) {
    if (!PROBE_KEYS.has(k))
      fail(`probe.${k}`, `probe has unknown property "${k}"; allowed: ${[...PROBE_KEYS].join(', ')}.`)
  }
  const path = p.path ?? '/'
  if (typeof path !== 'string' || !path.startsWith('/') || /[\s\r\n]/.test(path) || path.length > 2000) {
    fail('probe.path', 'probe.path must start with "/" and contain no whitespace.')
  }
  const method = typeof p.method === 'string' ? p.method.toUpperCase() : (p.method ?? 'GET')
  if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS') {
    fail('probe.method', 'probe.method must be GET, HEAD or OPTIONS (probes must not change anything).')
  }
  const rawStatus = p.expectedStatus ?? ['200-299']
  if (!Array.isArray(rawStatus) || rawStatus.length === 0 || rawStatus.length > 20) {
    fail('probe.expectedStatus', 'probe.expectedStatus must be a list like ["200-299", "401"].')
  }
  const expectedStatus = (rawStatus as unknown[]).map((s): StatusRange => {
    const r = parseStatusRange(s)
    if (!r) {
      return fail(
        'probe.expectedStatus',
        `probe.expectedStatus entry ${JSON.stringify(s)} is not a status or range like "200-299" (100-599).`,
      )
    }
    return Object.freeze(r)
  })
  const intervalSeconds = num(p, 'intervalSeconds', 30, 0.01, 3600, false, fail)
  const timeoutSeconds = num(p, 'timeoutSeconds', Math.min(10, intervalSeconds / 2), 0.005, 600, false, fail)
  // Like Traffic Manager: a probe must finish before the next one is due, which keeps the
  // failover bound (interval × toleratedFailures + timeout) true.
  if (timeoutSeconds >= intervalSeconds) {
    fail(
      'probe.timeoutSeconds',
      `probe.timeoutSeconds (${timeoutSeconds}) must be less than probe.intervalSeconds (${intervalSeconds}).`,
    )
  }
  const toleratedFailures = num(p, 'toleratedFailures', 3, 1, 100, true, fail)
  const requiredSuccesses = num(p, 'requiredSuccesses', 1, 1, 100, true, fail)
  const headers = p.headers ?? {}
  if (!isRecord(headers))
    return fail('probe.headers', 'probe.headers must be an object of header names to strings.')
  for (const [k, v] of Object.entries(headers)) {
    if (!HEADER_NAME.test(k) || typeof v !== 'string' || /[\r\n\0]/.test(v)) {
      fail(
        'probe.headers',
        `probe.headers "${k}" must be a valid header name with a single-line string value.`,
      )
    }
  }
  if (p.sendCredentials !== undefined && typeof p.sendCredentials !== 'boolean') {
    fail('probe.sendCredentials', 'probe.sendCredentials must be a boolean.')
  }
  return Object.freeze({
    path: path as string,
    method: method as ProbeSettings['method'],
    expectedStatus: Object.freeze(expectedStatus),
    intervalMs: Math.round(intervalSeconds * 1000),
    timeoutMs: Math.max(1, Math.round(timeoutSeconds * 1000)),
    toleratedFailures,
    requiredSuccesses,
    headers: Object.freeze({ ...(headers as Record<string, string>) }),
    sendCredentials: p.sendCredentials === true,
  })
}

function parseRetryOn(raw: unknown, fail: Fail): readonly RetryCondition[] {
  if (raw === undefined) return Object.freeze(['connect-error', 'timeout'] as RetryCondition[])
  if (!Array.isArray(raw) || raw.length > 20)
    return fail('retryOn', '"retryOn" must be a list like ["connect-error", "timeout", "503"].')
  const out = raw.map((v: unknown): RetryCondition => {
    if (v === 'connect-error' || v === 'timeout') return v
    const r = parseStatusRange(v)
    if (!r || r.from !== r.to || r.from < 200) {
      return fail(
        'retryOn',
        `retryOn entry ${JSON.stringify(v)} must be "connect-error", "timeout" or one status code 200-599.`,
      )
    }
    return r.from
  })
  return Object.freeze(out)
}
