/**
 * Turns the agent's command-line flags into an instance source: `--server URL` (one instance),
 * `--servers URL,URL,…`, `--server-dns ws://headless-svc:port/path`, or `--cf-app-guid G --cf-instances N`
 * (with `--server` as the app's route).
 */
import type { InstanceSource } from './instances'

export interface InstanceFlags {
  readonly server?: string | undefined
  readonly servers?: string | undefined
  readonly serverDns?: string | undefined
  readonly cfAppGuid?: string | undefined
  readonly cfInstances?: string | undefined
}

/**
 * @throws TypeError naming the flag when the combination is not usable.
 * @example instanceSourceFromFlags({ server: 'wss://t.cfapps.example', cfAppGuid: guid, cfInstances: '3' })
 */
export function instanceSourceFromFlags(flags: InstanceFlags): InstanceSource {
  const { server, servers, serverDns, cfAppGuid, cfInstances } = flags
  if ((cfAppGuid === undefined) !== (cfInstances === undefined)) {
    throw new TypeError('--cf-app-guid and --cf-instances go together')
  }
  if (cfAppGuid !== undefined) {
    if (server === undefined) throw new TypeError('--cf-app-guid needs --server (the app route)')
    if (!/^\d{1,3}$/.test(cfInstances ?? '')) throw new TypeError('--cf-instances must be a number')
    return { cf: { url: server, appGuid: cfAppGuid, instances: Number(cfInstances) } }
  }
  const given = [server, servers, serverDns].filter((x) => x !== undefined)
  if (given.length !== 1) throw new TypeError('give exactly one of --server, --servers or --server-dns')
  if (serverDns !== undefined) return { dns: serverDns }
  if (servers !== undefined) {
    return {
      urls: servers
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    }
  }
  return { urls: [server as string] }
}
