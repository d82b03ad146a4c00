/**
 * Gateway ports for OnPremise RFC destinations. node-rfc (the NW RFC SDK) derives the gateway port
 * from `sysnr` (`33<NN>`, `48<NN>` with SNC) and cannot be given another port, so each destination
 * gets its own loopback address in 127.0.0.0/8 (Linux routes the whole block to loopback) and a
 * listener on exactly that port there, carrying connections to the Cloud Connector's virtual
 * application server by the destination's route (SOCKS5 0x80 or our tunnel).
 */
import { createHash } from 'node:crypto'
import type { RfcDestination } from '../destination/types'
import { hasErrorCode, TransportError } from '../errors'
import { type Forwarder, startForwarder } from '../tcp/forwarder'
import { openRoute } from '../tcp/open-route'

interface Gateway {
  readonly forwarder: Forwarder
  /** The newest destination object and identity; later connections use them. */
  current: { dest: RfcDestination; jwt: string | undefined; tenant: string | undefined }
}

const gateways = new Map<string, Promise<Gateway>>()

/** `33<NN>`, or `48<NN>` when the destination uses SNC. */
export function gatewayPort(sysnr: string, snc: boolean): number {
  return (snc ? 4800 : 3300) + Number(sysnr)
}

/** A loopback address derived from the key, away from 127.0.0.1 and 127.0.1.1 (used by /etc/hosts). */
export function loopbackAddressFor(key: string, attempt: number): string {
  const h = createHash('sha256').update(`${key}\u0000${attempt}`).digest()
  const a = 2 + ((h[0] as number) % 253)
  const b = h[1] as number
  const c = 1 + ((h[2] as number) % 254)
  return `127.${a}.${b}.${c}`
}

export interface GatewayOptions {
  readonly jwt?: string | undefined
  readonly tenant?: string | undefined
  /** Connect timeout for each carried connection. */
  readonly timeoutMs?: number | undefined
}

async function start(
  key: string,
  dest: RfcDestination,
  target: { host: string; port: number },
  opts: GatewayOptions,
): Promise<Gateway> {
  const current: Gateway['current'] = { dest, jwt: opts.jwt, tenant: opts.tenant }
  // Connections read `gw.current` when they open, so later rfcParameters calls refresh identity and definition.
  const gw = { current } as { current: Gateway['current']; forwarder?: Forwarder }
  for (let attempt = 0; ; attempt++) {
    const host = loopbackAddressFor(key, attempt)
    try {
      gw.forwarder = await startForwarder({
        host,
        port: target.port,
        maxConnections: 64,
        unref: true,
        label: `RFC destination "${dest.name}" (gateway ${target.host}:${target.port})`,
        open: async (signal) => {
          const { dest: d, jwt, tenant } = gw.current
          const { stream } = await openRoute(d, target, { jwt, tenant, signal, timeoutMs: opts.timeoutMs })
          return stream
        },
      })
      return gw as Gateway
    } catch (err) {
      // Another process (or destination) holds this port on this address: try the next address.
      if (hasErrorCode(err, 'PORT_IN_USE') && attempt < 8) continue
      const code = (err as { cause?: NodeJS.ErrnoException }).cause?.code
      if (code === 'EADDRNOTAVAIL') {
        throw new TransportError(
          'CONNECT_FAILED',
          `RFC destination "${dest.name}": cannot listen on ${host}:${target.port}; this OS does not route 127.0.0.0/8 ` +
            'to loopback (Linux does; on macOS add an lo0 alias), so node-rfc cannot reach the on-premise gateway.',
          { cause: err, details: { destination: dest.name } },
        )
      }
      throw err
    }
  }
}

/**
 * The loopback address whose port `33<NN>`/`48<NN>` carries RFC to the destination's virtual
 * application server; started on first use and kept (unreferenced by the event loop) until
 * {@link closeRfcGateways}.
 */
export async function gatewayFor(
  dest: RfcDestination,
  target: { host: string; port: number },
  opts: GatewayOptions = {},
): Promise<{ host: string; port: number }> {
  const key = [dest.name, dest.locationId, opts.tenant ?? '', `${target.host}:${target.port}`].join('|')
  let pending = gateways.get(key)
  if (!pending) {
    pending = start(key, dest, target, opts)
    gateways.set(key, pending)
    pending.catch(() => gateways.delete(key))
  }
  const gw = await pending
  gw.current = { dest, jwt: opts.jwt ?? gw.current.jwt, tenant: opts.tenant }
  return { host: gw.forwarder.host, port: gw.forwarder.port }
}

/** Closes every RFC gateway port (and the connections they carry). */
export async function closeRfcGateways(): Promise<void> {
  const all = [...gateways.values()]
  gateways.clear()
  await Promise.all(all.map((p) => p.then((g) => g.forwarder.close()).catch(() => undefined)))
}
