import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../lib/cli/main'
import { createTokenVerifier } from '../../lib/tunnel/auth'
import { type CapturedOutput, captureOutput } from '../fixtures/cli'
import { freePort } from '../fixtures/net'
import { echoServer, roundTrip, SECRET, token, waitFor } from './helpers'

let io: CapturedOutput | undefined
afterEach(() => {
  io?.restore()
  io = undefined
})

describe('cap-connectivity token', () => {
  it('prints a token the server verifies, with account, ttl and extra claims', async () => {
    io = captureOutput()
    const code = await main([
      'token',
      '--secret',
      SECRET,
      '--subject',
      'dev',
      '--account',
      'acme',
      '--ttl',
      '60',
      '--claim',
      'scope=["tunnel"]',
      '--claim',
      'team=blue',
    ])
    expect(code).toBe(0)
    const id = await createTokenVerifier({ secret: SECRET, scope: 'tunnel' })(io.out().trim())
    expect(id).toMatchObject({ account: 'acme', subject: 'dev', claims: { team: 'blue' } })
  })

  it('needs --secret and --subject (usage error, exit 2)', async () => {
    io = captureOutput()
    expect(await main(['token', '--subject', 'x'])).toBe(2)
    expect(await main(['token', '--secret', 's', '--subject', 'x', '--ttl', 'soon'])).toBe(2)
  })
})

describe('cap-connectivity tunnel', () => {
  it('server + agent + forward from the CLI carry a TCP connection; SIGINT stops them', async () => {
    const echo = await echoServer()
    const port = await freePort()
    const local = await freePort()
    const fs = await import('node:fs')
    const path = await import('node:path')
    const dir = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'cli-agent-'))
    const config = path.join(dir, 'agent.json')
    fs.writeFileSync(
      config,
      JSON.stringify({
        locationId: '',
        mappings: [
          {
            protocol: 'TCP',
            virtualHost: 'db.virtual',
            virtualPort: 3306,
            internalHost: '127.0.0.1',
            internalPort: echo.port,
          },
        ],
      }),
    )
    io = captureOutput()
    const server = main(['tunnel', 'server', '--port', String(port), '--secret', SECRET])
    await waitFor(() => io?.out().includes('Tunnel server listening') ?? false, 5000, 'server')
    const url = `ws://127.0.0.1:${port}`
    const agent = main([
      'tunnel',
      'agent',
      '--server',
      url,
      '--token',
      token('a', 'acme'),
      '--config',
      config,
    ])
    await waitFor(() => io?.out().includes('Agent connected') ?? false, 5000, 'agent')
    const fwd = main([
      'tunnel',
      'forward',
      '--server',
      url,
      '--token',
      token('d', 'acme'),
      `${local}:db.virtual:3306`,
    ])
    await waitFor(() => io?.out().includes(`Listening on 127.0.0.1:${local}`) ?? false, 5000, 'forward')
    // Announcement may trail the agent's "connected" line by a moment.
    let r: Awaited<ReturnType<typeof roundTrip>> | undefined
    for (let i = 0; i < 20 && !r; i++) {
      r = await roundTrip(net.connect(local, '127.0.0.1'), 5000).catch(() => undefined)
      if (!r) await new Promise((res) => setTimeout(res, 50))
    }
    expect(r?.received).toBe(r?.sent)
    process.emit('SIGINT')
    expect(await Promise.all([fwd, agent, server])).toEqual([0, 0, 0])
    await echo.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('forward exits non-zero at once when the server refuses the token', async () => {
    const port = await freePort()
    io = captureOutput()
    const server = main(['tunnel', 'server', '--port', String(port), '--secret', SECRET])
    await waitFor(() => io?.out().includes('Tunnel server listening') ?? false, 5000, 'server')
    const start = Date.now()
    const code = await main([
      'tunnel',
      'forward',
      '--server',
      `ws://127.0.0.1:${port}`,
      '--token',
      'bad.token.value',
      '0:h:1',
    ])
    expect(code).toBe(1)
    expect(Date.now() - start).toBeLessThan(3000)
    expect(io.err()).toContain('TUNNEL_AUTH_FAILED')
    expect(io.err()).not.toContain('bad.token.value')
    // A taken port is reported clearly, too.
    const taken = await main(['tunnel', 'server', '--port', String(port), '--secret', SECRET])
    expect(taken).toBe(1)
    expect(io.err()).toContain('PORT_IN_USE')
    process.emit('SIGINT')
    expect(await server).toBe(0)
  })

  it('server needs exactly one auth mode; --insecure-no-auth warns', async () => {
    io = captureOutput()
    expect(await main(['tunnel', 'server', '--port', '0'])).toBe(2)
    expect(await main(['tunnel', 'server', '--port', '0', '--secret', 's', '--insecure-no-auth'])).toBe(2)
    expect(await main(['tunnel', 'nope'])).toBe(2)
    const port = await freePort()
    const server = main(['tunnel', 'server', '--port', String(port), '--insecure-no-auth'])
    await waitFor(() => io?.out().includes('Tunnel server listening') ?? false, 5000, 'server')
    expect(io.err()).toContain('WARNING')
    process.emit('SIGINT')
    expect(await server).toBe(0)
  })

  it('honours PORT from the environment', async () => {
    const port = await freePort()
    process.env.PORT = String(port)
    io = captureOutput()
    try {
      const server = main(['tunnel', 'server', '--secret', SECRET])
      await waitFor(() => io?.out().includes(`:${port} `) ?? false, 5000, 'server on $PORT')
      process.emit('SIGINT')
      expect(await server).toBe(0)
    } finally {
      delete process.env.PORT
    }
  })
})
