/**
 * In-memory counters of the plugin, per remote service: requests served, failures, the route and
 * the last error (message only, which never holds secrets). Read with `connectivityStatus()`.
 */

export interface ServiceStatus {
  readonly name: string
  readonly kind: string
  readonly destination: string
  requests: number
  failures: number
  lastStatus?: number | undefined
  lastError?: string | undefined
  lastErrorCode?: string | undefined
  lastAt?: string | undefined
}

const services = new Map<string, ServiceStatus>()

/** The counters of one service (created on first use). */
export function statusOf(name: string, kind: string, destination: string): ServiceStatus {
  let s = services.get(name)
  if (!s) {
    s = { name, kind, destination, requests: 0, failures: 0 }
    services.set(name, s)
  }
  return s
}

/** A snapshot of every remote service the plugin serves. */
export interface ConnectivityStatus {
  readonly requestsServed: number
  readonly failures: number
  readonly lastError?: string
  readonly lastErrorCode?: string
  readonly services: readonly ServiceStatus[]
}

/**
 * Counters of the plugin's remote services (copies; safe to serialize).
 * @example app.get('/connectivity/status', (_, res) => res.json(connectivityStatus()))
 */
export function connectivityStatus(): ConnectivityStatus {
  const list = [...services.values()].map((s) => ({ ...s }))
  const last = list
    .filter((s) => s.lastError && s.lastAt)
    .sort((a, b) => String(b.lastAt).localeCompare(String(a.lastAt)))[0]
  return {
    requestsServed: list.reduce((n, s) => n + s.requests - s.failures, 0),
    failures: list.reduce((n, s) => n + s.failures, 0),
    ...(last?.lastError ? { lastError: last.lastError } : {}),
    ...(last?.lastErrorCode ? { lastErrorCode: last.lastErrorCode } : {}),
    services: list,
  }
}

/** Clears all counters (tests). */
export function resetConnectivityStatus(): void {
  services.clear()
}
