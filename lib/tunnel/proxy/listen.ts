/** Binding a proxy front-end's server. */
import type { AddressInfo, Server } from 'node:net'

/**
 * Starts `server` listening on `host:port`; resolves with the bound address, rejects with the
 * listen error (e.g. EADDRINUSE) instead of leaving it as an unhandled `error` event.
 */
export function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server.address() as AddressInfo)
    })
  })
}
