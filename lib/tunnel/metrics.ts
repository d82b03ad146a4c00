/**
 * Prometheus text metrics of the tunnel server: sessions, streams, bytes and errors by account and
 * location. Live sessions are read at scrape time; closed sessions are folded into totals.
 */
import { exposition, familyLines, labelText, type MetricLabels as Labels } from '../prometheus'
import type { SessionEntry } from './registry'

class Counter {
  readonly values = new Map<string, number>()
  add(labels: Labels, n = 1): void {
    const key = labelText(labels)
    this.values.set(key, (this.values.get(key) ?? 0) + n)
  }
}

export class TunnelMetrics {
  #streams = new Counter()
  #bytes = new Counter()
  #errors = new Counter()
  #auth = new Counter()

  /** Folds a closing session's totals into the counters. */
  sessionClosed(e: SessionEntry): void {
    const l = { account: e.account, location: e.locationId, role: e.role }
    this.#streams.add(l, e.session.streamsOpened)
    this.#bytes.add({ ...l, direction: 'in' }, e.session.bytesIn)
    this.#bytes.add({ ...l, direction: 'out' }, e.session.bytesOut)
  }

  /** A stream the server refused or could not open (code = reason name, e.g. ACCESS_DENIED). */
  error(account: string, locationId: string, code: string): void {
    this.#errors.add({ account, location: locationId, code })
  }

  authFailure(reason: string): void {
    this.#auth.add({ reason })
  }

  render(live: Iterable<SessionEntry>): string {
    const sessions = new Counter()
    const open = new Counter()
    const streams = new Counter()
    const bytes = new Counter()
    for (const [k, v] of this.#streams.values) streams.values.set(k, v)
    for (const [k, v] of this.#bytes.values) bytes.values.set(k, v)
    for (const e of live) {
      const l = { account: e.account, location: e.locationId, role: e.role }
      sessions.add(l)
      open.add(l, e.session.streamCount)
      streams.add(l, e.session.streamsOpened)
      bytes.add({ ...l, direction: 'in' }, e.session.bytesIn)
      bytes.add({ ...l, direction: 'out' }, e.session.bytesOut)
    }
    const out: string[] = []
    const emit = (name: string, type: 'counter' | 'gauge', help: string, c: Counter): void => {
      out.push(...familyLines(name, type, help, c.values))
    }
    emit('tunnel_sessions', 'gauge', 'Connected tunnel sessions.', sessions)
    emit('tunnel_streams_open', 'gauge', 'Streams open now.', open)
    emit('tunnel_streams_total', 'counter', 'Streams opened.', streams)
    emit('tunnel_bytes_total', 'counter', 'DATA payload bytes through the server.', bytes)
    emit('tunnel_stream_errors_total', 'counter', 'Streams refused or failed, by reason.', this.#errors)
    emit('tunnel_auth_failures_total', 'counter', 'Refused connection attempts.', this.#auth)
    return exposition(out)
  }
}
