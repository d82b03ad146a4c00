/**
 * Interop with a real corporate proxy: Debian's squid as the `http_proxy`/`https_proxy` for Internet
 * destinations (absolute-URI forwarding for http, CONNECT for https, `no_proxy` bypass).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { request } from '../../lib/http/request'
import { testPki } from '../fixtures/certs'
import { freePort } from '../fixtures/net'
import { type FakeTarget, startTarget } from '../fixtures/target-server'
import { httpDest, resetClient } from '../http/helpers'

const SQUID = ['/usr/sbin/squid', '/usr/bin/squid'].find((p) => existsSync(p))
if (!SQUID)
  console.warn('squid binary not found: skipping the squid interop tests (apt-get install -y squid)')

async function waitForPort(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect({ host: '127.0.0.1', port }, () => {
        c.destroy()
        resolve(true)
      })
      c.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`squid did not listen on ${port}`)
}

const ENV = ['http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY'] as const
const saved: Record<string, string | undefined> = {}

describe.skipIf(!SQUID)('squid as corporate proxy for Internet destinations', () => {
  let squid: ChildProcess
  let dir: string
  let port: number
  let plain: FakeTarget
  let secure: FakeTarget

  beforeAll(async () => {
    for (const k of ENV) saved[k] = process.env[k]
    dir = mkdtempSync(join(tmpdir(), 'capconn-squid-'))
    chmodSync(dir, 0o777)
    port = await freePort()
    writeFileSync(
      join(dir, 'squid.conf'),
      [
        `http_port 127.0.0.1:${port}`,
        `pid_filename ${join(dir, 'squid.pid')}`,
        `access_log stdio:${join(dir, 'access.log')}`,
        `cache_log ${join(dir, 'cache.log')}`,
        `coredump_dir ${dir}`,
        'cache deny all',
        'cache_mem 8 MB',
        'acl localhost_src src 127.0.0.1/32',
        'http_access allow localhost_src',
        'http_access deny all',
        'shutdown_lifetime 0 seconds',
        'dns_nameservers 127.0.0.1',
        '',
      ].join('\n'),
    )
    squid = spawn(SQUID as string, ['-N', '-f', join(dir, 'squid.conf')], { stdio: 'ignore' })
    await waitForPort(port, Date.now() + 20_000)
    plain = await startTarget()
    const pki = testPki()
    secure = await startTarget({ tls: { cert: pki.serverCertPem, key: pki.serverKeyPem } })
  }, 40_000)

  afterAll(async () => {
    squid?.kill('SIGKILL')
    await Promise.all([plain?.close(), secure?.close()])
    rmSync(dir, { recursive: true, force: true })
  })

  afterEach(async () => {
    for (const k of ENV) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
    plain.records.length = 0
    secure.records.length = 0
    await resetClient()
  })

  it('forwards http through http_proxy (absolute URI)', async () => {
    process.env.http_proxy = `http://127.0.0.1:${port}`
    const d = httpDest({ Name: 'WEB', URL: plain.url })
    const res = await request(d, { path: '/via-squid' })
    expect(res.status).toBe(200)
    await res.text()
    expect(String(plain.records[0]?.headers.via)).toMatch(/squid/i)
    expect(readFileSync(join(dir, 'access.log'), 'utf8')).toContain('/via-squid')
  })

  it('tunnels https through https_proxy with CONNECT', async () => {
    process.env.https_proxy = `http://127.0.0.1:${port}`
    const d = httpDest({ Name: 'WEBS', URL: `https://localhost:${secure.port}`, TrustAll: 'true' })
    const res = await request(d, { path: '/tls-via-squid' })
    expect(res.status).toBe(200)
    await res.text()
    // TLS end to end: squid only saw the CONNECT, the backend saw the request without a Via header.
    expect(secure.records[0]?.headers.via).toBeUndefined()
    // squid logs a CONNECT when the tunnel closes: close our pools, then wait for the line.
    await resetClient()
    const deadline = Date.now() + 5000
    let log = ''
    while (Date.now() < deadline && !/CONNECT localhost:\d+/.test(log)) {
      await new Promise((r) => setTimeout(r, 100))
      log = readFileSync(join(dir, 'access.log'), 'utf8')
    }
    expect(log).toMatch(/CONNECT localhost:\d+/)
  })

  it('bypasses the proxy for no_proxy hosts', async () => {
    process.env.http_proxy = `http://127.0.0.1:${port}`
    process.env.no_proxy = 'example.org,127.0.0.1'
    const d = httpDest({ Name: 'WEB', URL: plain.url })
    await (await request(d, { path: '/direct' })).text()
    expect(plain.records[0]?.headers.via).toBeUndefined()
  })
})
