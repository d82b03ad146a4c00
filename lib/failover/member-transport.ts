/**
 * How groups reach their members by default: HTTP members through the HTTP client, TCP members
 * through connectTcp. Probes send no credentials unless the group says `sendCredentials`, as the
 * seed's Traffic Manager probes do (they expect 401 and do not burn the member's message quota).
 */
import { resolveDestination } from '../destination/resolve'
import type { Destination, HttpDestination } from '../destination/types'
import { DestinationError } from '../errors'
import { request as httpRequest } from '../http/request'
import { connectTcp as tcpConnect } from '../tcp/connect'
import type { MemberProber } from './group-runtime'
import type { MemberTarget } from './registry'

// Raw properties that carry credentials; dropped from the copy a probe uses, so no layer below
// can pick them up from the flat map either.
const SECRET_PROPERTY = /password|secret|token|^user$|clientid|assertion|key/i

/** A copy of an HTTP destination that authenticates nothing (for probes without credentials). */
export function withoutCredentials(d: HttpDestination): HttpDestination {
  const properties = Object.fromEntries(
    Object.entries(d.properties).filter(([k]) => !SECRET_PROPERTY.test(k)),
  )
  const { authTokens: _tokens, ...rest } = d
  return {
    ...rest,
    authentication: 'NoAuthentication',
    credentials: {},
    properties: { ...properties, Authentication: 'NoAuthentication' },
  }
}

/** The default prober of a group: an HTTP request to `probe.path` for HTTP members, a TCP connect for TCP members. */
export function defaultProberFactory(target: MemberTarget): MemberProber {
  return async (member, probe, signal) => {
    const dest: Destination = await resolveDestination(target(member))
    if (dest.type === 'TCP') {
      const stream = await tcpConnect(dest, { signal, timeout: probe.timeoutMs })
      stream.destroy()
      return {}
    }
    if (dest.type !== 'HTTP') {
      throw new DestinationError(
        'DESTINATION_INVALID',
        `Member "${member}" has Type ${dest.type}; group members must be HTTP or TCP destinations.`,
        { details: { destination: member, property: 'Type' } },
      )
    }
    const res = await httpRequest(probe.sendCredentials ? dest : withoutCredentials(dest), {
      method: probe.method,
      path: probe.path,
      headers: probe.headers,
      signal,
      timeout: probe.timeoutMs,
      csrf: false,
    })
    // Only the status matters; drain the body so the connection can be reused.
    res.body.resume()
    return { status: res.status }
  }
}
