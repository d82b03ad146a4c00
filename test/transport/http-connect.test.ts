import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { hasErrorCode } from '../../lib/errors'
import { HttpConnectConnector } from '../../lib/transport/http-connect'
import { listenLoopback } from '../fixtures/net'

const servers: { server: Server; sockets: Set<Socket> }[] = []
afterEach(async () => {
  for (const { server, sockets } of servers.splice(0)) {
    for (const s of sockets) s.destroy()
    await new Promise<void>((r) => server.close(() => r()))
  }
})

/** A minimal CONNECT proxy: answers with `status`, or 200 and then echoes, recording the request head. */
async function connectProxy(status: number, heads: string[]): Promise<number> {
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    let head = ''
    const onData = (d: Buffer) => {
      head += d.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      s.off('data', onData)
      heads.push(head)
      if (status !== 200) {
        s.end(`HTTP/1.1 ${status} No\r\nContent-Length: 0\r\n\r\n`)
        return
      }
      // The tunnel's first bytes arrive in the same write as the response head.
      s.write('HTTP/1.1 200 Connection established\r\n\r\nhello')
      s.pipe(s)
    }
    s.on('data', onData)
  })
  await listenLoopback(server)
  servers.push({ server, sockets })
  return (server.address() as { port: number }).port
}

describe('HttpConnectConnector', () => {
  it('sends CONNECT with Host and Proxy-Authorization and keeps bytes that follow the response head', async () => {
    const heads: string[] = []
    const port = await connectProxy(200, heads)
    const c = new HttpConnectConnector({ host: '127.0.0.1', port, proxyAuthorization: 'Basic dTpw' })
    const s = await c.connect({ host: 'api.example', port: 443 }, {})
    const first = await new Promise<string>((r) => s.once('data', (d: Buffer) => r(d.toString())))
    expect(first).toBe('hello')
    s.destroy()
    expect(heads[0]).toMatch(
      /^CONNECT api\.example:443 HTTP\/1\.1\r\nHost: api\.example:443\r\nProxy-Authorization: Basic dTpw\r\n/,
    )
  })

  it('maps 407 → PROXY_AUTH_FAILED, 403 → ACCESS_DENIED, 502 → CONNECT_FAILED, all with requestSent false', async () => {
    const out: unknown[] = []
    for (const status of [407, 403, 502]) {
      const port = await connectProxy(status, [])
      const e = (await new HttpConnectConnector({ host: '127.0.0.1', port })
        .connect({ host: 'x', port: 1 }, {})
        .catch((err: unknown) => err)) as {
        code: string
        details: { requestSent: boolean }
      }
      out.push([e.code, e.details.requestSent])
    }
    expect(out).toEqual([
      ['PROXY_AUTH_FAILED', false],
      ['ACCESS_DENIED', false],
      ['CONNECT_FAILED', false],
    ])
  })

  it('fails with CONNECT_FAILED when the proxy is down', async () => {
    const port = await connectProxy(200, [])
    await new Promise<void>((r) => servers[0]?.server.close(() => r()))
    servers.length = 0
    const e = await new HttpConnectConnector({ host: '127.0.0.1', port })
      .connect({ host: 'x', port: 1 }, {})
      .catch((err: unknown) => err)
    expect(hasErrorCode(e, 'CONNECT_FAILED')).toBe(true)
  })
})
