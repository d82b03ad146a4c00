import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { main } from '../../lib/cli/main'
import { configureDestinations } from '../../lib/destination/resolve'
import { captureOutput } from '../fixtures/cli'
import { echoExact, type TestServer, startEcho } from './helpers'

describe('cap-connectivity connect', () => {
  let echo: TestServer
  let dir: string
  beforeAll(async () => {
    echo = await startEcho()
    dir = mkdtempSync(join(tmpdir(), 'cap-conn-cli-'))
    writeFileSync(
      join(dir, 'destinations.json'),
      JSON.stringify([
        { Name: 'ECHO_DB', Type: 'TCP', Address: `127.0.0.1:${echo.port}`, ProxyType: 'Internet' },
      ]),
    )
  })
  afterAll(async () => {
    configureDestinations({})
    rmSync(dir, { recursive: true, force: true })
    await echo.close()
  })

  it('opens a local port for a TCP destination, prints it, and closes on SIGINT', async () => {
    const io = captureOutput()
    try {
      const exit = main(['connect', 'ECHO_DB', '--file', join(dir, 'destinations.json'), '--port', '0'])
      await vi.waitFor(() => expect(io.out()).toMatch(/Listening on 127\.0\.0\.1:\d+/), { timeout: 5000 })
      expect(io.out()).toContain(`destination "ECHO_DB" (127.0.0.1:${echo.port}, route direct)`)
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(io.out())?.[1])
      const socket = net.connect({ port, host: '127.0.0.1' })
      expect((await echoExact(socket, Buffer.from('select 1'))).toString()).toBe('select 1')
      socket.destroy()
      process.emit('SIGINT')
      expect(await exit).toBe(0)
      expect(io.out()).toContain('Closed.')
    } finally {
      io.restore()
    }
  })

  it('rejects a bad port and a missing name with usage errors (exit 2)', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      expect(await main(['connect'])).toBe(2)
      expect(
        await main(['connect', 'ECHO_DB', '--port', 'abc', '--file', join(dir, 'destinations.json')]),
      ).toBe(2)
      expect(await main(['connect', 'NOPE_NOT_DEFINED', '--file', join(dir, 'destinations.json')])).toBe(1)
    } finally {
      err.mockRestore()
    }
  })
})
