/** Shared setup: fake XSUAA + fake Destination service bound through VCAP_SERVICES, no file, no env var. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { clearTokenCache } from '../../lib/auth/token-client'
import { clearDestinationCache, configureDestinations } from '../../lib/destination/resolve'
import { registryClear } from '../../lib/destination/sources/registry'
import {
  type FakeDestinationService,
  type FakeTenantDestinations,
  destinationVcap,
  startDestinationService,
} from '../fixtures/destination-service'
import { installLoopbackDns } from '../fixtures/loopback-dns'
import { type FakeXsuaa, startXsuaa } from '../fixtures/xsuaa'

export const CLIENT_ID = 'sb-clone-destination'
export const CLIENT_SECRET = 'SENTINEL-DEST-SECRET-7f3a'
export const PROVIDER = { zid: 'provider-zone', subdomain: 'provider' }
export const SUBSCRIBER = { zid: 'subscriber-zone', subdomain: 'subscriber' }
export const OTHER = { zid: 'other-zone', subdomain: 'other' }

export interface ServiceEnv {
  xsuaa: FakeXsuaa
  service: FakeDestinationService
  root: string
  close(): Promise<void>
  reset(): void
}

export async function startServiceEnv(tenants: Record<string, FakeTenantDestinations>): Promise<ServiceEnv> {
  const restoreDns = installLoopbackDns()
  const xsuaa = await startXsuaa({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    provider: PROVIDER,
    subscribers: [SUBSCRIBER, OTHER],
  })
  const service = await startDestinationService({ xsuaa, clientId: CLIENT_ID, tenants })
  const saved = {
    vcap: process.env.VCAP_SERVICES,
    dests: process.env.destinations,
    file: process.env.CAP_CONNECTIVITY_DESTINATIONS,
  }
  const root = mkdtempSync(join(tmpdir(), 'dest-svc-'))
  delete process.env.destinations
  delete process.env.CAP_CONNECTIVITY_DESTINATIONS
  process.env.VCAP_SERVICES = destinationVcap(xsuaa, service, CLIENT_ID, CLIENT_SECRET, PROVIDER.zid)
  configureDestinations({ root })
  const env: ServiceEnv = {
    xsuaa,
    service,
    root,
    reset() {
      clearDestinationCache()
      clearTokenCache()
      registryClear()
      configureDestinations({ root })
      service.calls.length = 0
      service.tokenLifetime = 3600
      service.tokenErrors.clear()
      service.failures.clear()
      service.delayMs = 0
      xsuaa.requests.length = 0
      delete xsuaa.failWith
    },
    async close() {
      for (const [k, v] of [
        ['VCAP_SERVICES', saved.vcap],
        ['destinations', saved.dests],
        ['CAP_CONNECTIVITY_DESTINATIONS', saved.file],
      ] as const) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
      configureDestinations({})
      await service.close()
      await xsuaa.close()
      await restoreDns()
      rmSync(root, { recursive: true, force: true })
    },
  }
  return env
}
