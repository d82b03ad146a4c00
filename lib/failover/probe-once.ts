/** One health probe of a group member under the probe's own timeout, reduced to ok / status / error. */
import type { ProbeSettings } from './group-types'
import { matchesStatus } from './status-range'

/** The outcome of one probe; `error` is secret-free text for status output and debug logs. */
export interface ProbeOutcome {
  readonly ok: boolean
  readonly status?: number | undefined
  readonly error?: string | undefined
}

/**
 * Runs `run` with `controller`'s signal and aborts it after `probe.timeoutMs`. A prober that
 * ignores the signal still cannot hold the result beyond the timeout: the race ends it.
 */
export async function probeOnce(
  run: (signal: AbortSignal) => Promise<{ status?: number }>,
  probe: ProbeSettings,
  controller: AbortController,
): Promise<ProbeOutcome> {
  const timer = setTimeout(() => controller.abort(), probe.timeoutMs)
  timer.unref()
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener(
      'abort',
      () => reject(new Error(`probe timed out after ${probe.timeoutMs} ms`)),
      { once: true },
    )
  })
  aborted.catch(() => {})
  try {
    const res = await Promise.race([run(controller.signal), aborted])
    const status = res.status
    const ok = status === undefined || matchesStatus(status, probe.expectedStatus)
    return { ok, status, error: ok ? undefined : `unexpected status ${status}` }
  } catch (err) {
    const error = controller.signal.aborted ? `timed out after ${probe.timeoutMs} ms` : probeError(err)
    return { ok: false, error }
  } finally {
    clearTimeout(timer)
  }
}

/** A short, secret-free description of a probe failure (error code and message, no URL credentials). */
function probeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    const text = `${typeof code === 'string' ? `${code}: ` : ''}${err.message}`
    return text.length > 300 ? `${text.slice(0, 297)}...` : text
  }
  return 'probe failed'
}
