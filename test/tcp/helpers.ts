/** Shared pieces of the TCP/RFC tests: loopback servers, destinations, a connectivity binding. */
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import net from 'node:net'
import type { Duplex } from 'node:stream'
import { parseDestination } from '../../lib/destination/parse'
import type { Destination } from '../../lib/destination/types'
import { type FakeConnectivityProxy, startConnectivityProxy } from '../fixtures/connectivity-proxy'
import { installLoopbackDns } from '../fixtures/loopback-dns'
import { type FakeXsuaa, startXsuaa } from '../fixtures/xsuaa'
import { listenLoopback } from '../fixtures/net'
import { bindConnectivity } from '../fixtures/connectivity-binding'

export interface TestServer {
  readonly port: number
  readonly connections: number
  close(): Promise<void>
}

/** Echoes every byte back; half-close aware (ends after echoing the client's FIN). */
export async function startEcho(): Promise<TestServer> {
  const sockets = new Set<net.Socket>()
  let total = 0
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    total++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => undefined)
    s.pipe(s)
  })
  await listenLoopback(server)
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return total
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

export function tcpDestination(
  name: string,
  address: string,
  extra: Record<string, string> = {},
): Destination {
  return parseDestination({ Name: name, Type: 'TCP', Address: address, ProxyType: 'Internet', ...extra })
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex')
}

/** Sends `payload`, half-closes, and collects everything until the peer ends. */
export async function roundTrip(socket: Duplex, payload: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  const ended = once(socket, 'end')
  socket.end(payload)
  await ended
  return Buffer.concat(chunks)
}

export const CONNECTIVITY_SECRET = 'conn-secret-SENTINEL-7d1f'

/** A fake XSUAA + fake connectivity proxy, bound through VCAP_SERVICES like on Cloud Foundry. */
export interface OnPremiseEnv {
  readonly proxy: FakeConnectivityProxy
  readonly xsuaa: FakeXsuaa
  close(): Promise<void>
}

export async function startOnPremiseEnv(
  mappings: Record<string, Record<string, number>>,
): Promise<OnPremiseEnv> {
  const restoreDns = installLoopbackDns()
  const xsuaa = await startXsuaa({
    clientId: 'sb-connectivity',
    clientSecret: CONNECTIVITY_SECRET,
    provider: { zid: 'provider-zid', subdomain: 'provider' },
  })
  const proxy = await startConnectivityProxy({ mappings, acceptToken: (t) => xsuaa.issued.has(t) })
  const previous = process.env.VCAP_SERVICES
  bindConnectivity(
    {
      clientid: 'sb-connectivity',
      clientsecret: CONNECTIVITY_SECRET,
      url: xsuaa.url,
      onpremise_proxy_host: '127.0.0.1',
      onpremise_proxy_http_port: String(proxy.httpPort),
      onpremise_socks5_proxy_port: String(proxy.socksPort),
    },
    { name: 'my-connectivity', tags: ['connectivity', 'conn'], plan: 'lite' },
  )
  return {
    proxy,
    xsuaa,
    async close() {
      if (previous === undefined) delete process.env.VCAP_SERVICES
      else process.env.VCAP_SERVICES = previous
      await proxy.close()
      await xsuaa.close()
      await restoreDns()
    },
  }
}

/** Writes `payload` and resolves with the first `payload.length` bytes that come back (no half-close needed). */
export function echoExact(socket: Duplex, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let got = 0
    const onData = (c: Buffer) => {
      chunks.push(c)
      got += c.length
      if (got >= payload.length) {
        socket.off('data', onData)
        resolve(Buffer.concat(chunks))
      }
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.once(
      'end',
      () => got < payload.length && reject(new Error(`ended after ${got} of ${payload.length} bytes`)),
    )
    socket.write(payload)
  })
}
