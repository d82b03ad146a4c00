/**
 * Server instances an agent must keep a session with when the tunnel server is scaled out: a
 * URL list, the A records of a headless service, or Cloud Foundry app instances addressed through
 * the router with `X-CF-APP-INSTANCE: <app-guid>:<index>`.
 */
import { Resolver } from 'node:dns/promises'
import { ConnectivityError } from '../../errors'

/** How to find the server instances. */
export type InstanceSource =
  | { readonly urls: readonly string[] }
  /** `url`'s hostname is resolved to A records; one session per address (headless Kubernetes service). */
  | { readonly dns: string; readonly dnsServers?: readonly string[] }
  /** One session per CF app instance, pinned through the router by X-CF-APP-INSTANCE. */
  | { readonly cf: { readonly url: string; readonly appGuid: string; readonly instances: number } }

/** One instance: where to connect and the extra upgrade headers that pin it. */
export interface ServerInstance {
  /** Stable identity of the instance (used to reconcile sessions when the list changes). */
  readonly key: string
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function checkUrl(url: string, where: string): URL {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new ConnectivityError('CONFIG_INVALID', `${where} is not a URL: use ws(s)://host[:port][/path]`)
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new ConnectivityError('CONFIG_INVALID', `${where} must be a ws:// or wss:// URL`)
  }
  return u
}

/**
 * Lists the instances of `source` now (DNS is looked up on every call, so call it again to follow scaling).
 * @example await resolveInstances({ cf: { url: 'wss://tunnel.cfapps.eu10.hana.ondemand.com', appGuid, instances: 3 } })
 * @throws ConnectivityError `CONFIG_INVALID` for a bad source; `CONNECT_FAILED` when the DNS lookup fails.
 */
export async function resolveInstances(source: InstanceSource): Promise<ServerInstance[]> {
  if ('urls' in source) {
    if (source.urls.length === 0)
      throw new ConnectivityError('CONFIG_INVALID', 'The server URL list is empty')
    return [...new Set(source.urls)].map((url, i) => {
      checkUrl(url, `server URL #${i + 1}`)
      return { key: url, url, headers: {} }
    })
  }
  if ('cf' in source) {
    const { url, appGuid, instances } = source.cf
    checkUrl(url, 'cf.url')
    if (!GUID.test(appGuid))
      throw new ConnectivityError('CONFIG_INVALID', 'cf.appGuid must be the app GUID (cf app NAME --guid)')
    if (!Number.isInteger(instances) || instances < 1 || instances > 256) {
      throw new RangeError('cf.instances must be an integer between 1 and 256')
    }
    return Array.from({ length: instances }, (_, i) => ({
      key: `${appGuid}:${i}`,
      url,
      headers: { 'X-CF-APP-INSTANCE': `${appGuid}:${i}` },
    }))
  }
  const u = checkUrl(source.dns, 'dns')
  const resolver = new Resolver({ timeout: 3000, tries: 2 })
  if (source.dnsServers !== undefined) resolver.setServers([...source.dnsServers])
  let addresses: string[]
  try {
    addresses = await resolver.resolve4(u.hostname)
  } catch (err) {
    throw new ConnectivityError(
      'CONNECT_FAILED',
      `DNS lookup of ${u.hostname} for the server instances failed; check the service name`,
      {
        cause: err,
        details: { host: u.hostname, requestSent: false },
      },
    )
  }
  return [...new Set(addresses)].sort().map((ip) => {
    const x = new URL(u.href)
    x.hostname = ip
    // The Host header keeps the service name, so virtual hosting and logs still see it.
    return { key: ip, url: x.href, headers: { Host: u.host } }
  })
}
