import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hasErrorCode, isConnectivityError } from '../../lib/errors'
import { request } from '../../lib/http/request'
import { type FakeTarget, startTarget } from '../fixtures/target-server'
import { httpDest, resetClient } from './helpers'
import { rejection } from '../fixtures/rejection'

let target: FakeTarget

beforeAll(async () => {
  target = await startTarget()
})
afterAll(async () => {
  await target.close()
})
afterEach(async () => {
  target.records.length = 0
  await resetClient()
})

describe('request — direct', () => {
  it('sends GET with URL.headers, URL.queries and sap-client, path appended, caller headers win', async () => {
    const d = httpDest({
      Name: 'S4',
      URL: `${target.url}/sap/opu`,
      'URL.headers.x-dest': 'from-dest',
      'URL.headers.x-both': 'dest',
      'URL.queries.q1': 'a',
      'sap-client': '100',
    })
    const res = await request(d, { path: '/svc/Orders', query: { $top: 2 }, headers: { 'x-both': 'caller' } })
    expect(res.status).toBe(200)
    const echo = (await res.json()) as { url: string; headers: Record<string, string> }
    expect(echo.url).toBe('/sap/opu/svc/Orders?q1=a&$top=2')
    expect(echo.headers['x-dest']).toBe('from-dest')
    expect(echo.headers['x-both']).toBe('caller')
    expect(echo.headers['sap-client']).toBe('100')
  })

  it('keeps a query written into path verbatim; query and URL.queries merge with later sources winning', async () => {
    const d = httpDest({
      Name: 'Q',
      URL: `${target.url}/svc?fixed=1`,
      'URL.queries.$format': 'json',
      'URL.queries.$top': '9',
    })
    const res = await request(d, {
      path: "/Orders?$orderby=TotalNetAmount%20desc&$filter=Name%20eq%20'A+B'&$top=1",
      query: { $top: 2, $search: 'two words' },
    })
    const echo = (await res.json()) as { url: string }
    expect(echo.url).toBe(
      "/svc/Orders?fixed=1&$format=json&$orderby=TotalNetAmount%20desc&$filter=Name%20eq%20'A+B'&$top=2&$search=two%20words",
    )
  })

  it('exposes status, headers, text(), arrayBuffer() and a body stream', async () => {
    const d = httpDest({ Name: 'T', URL: target.url })
    const r1 = await request(d, { path: '/status/404' })
    expect(r1.status).toBe(404)
    expect(r1.headers['content-type']).toBe('application/json')
    expect(await r1.text()).toBe('{"status":404}')
    const r2 = await request(d, { path: '/x' })
    expect(new TextDecoder().decode(await r2.arrayBuffer())).toContain('"method":"GET"')
    const r3 = await request(d, { path: '/y' })
    let text = ''
    for await (const chunk of r3.body) text += chunk
    expect(JSON.parse(text).url).toBe('/y')
  })

  it('sends JSON bodies with content-type', async () => {
    const d = httpDest({ Name: 'T', URL: target.url })
    const res = await request(d, { method: 'POST', path: '/items', body: { a: 1 }, csrf: false })
    const echo = (await res.json()) as { body: string; headers: Record<string, string> }
    expect(echo.body).toBe('{"a":1}')
    expect(echo.headers['content-type']).toBe('application/json')
  })

  it('reuses keep-alive sockets for sequential requests', async () => {
    const d = httpDest({ Name: 'T', URL: target.url })
    for (let i = 0; i < 6; i++) await (await request(d, { path: `/k${i}` })).text()
    // undici may open a second connection while the first is being released; never one per request.
    const ids = new Set(target.records.map((r) => r.socketId))
    expect(ids.size).toBeLessThanOrEqual(2)
  })

  it('rejects CR/LF in a destination header as DESTINATION_INVALID, in a caller header as REQUEST_INVALID, sending nothing', async () => {
    const good = httpDest({ Name: 'T', URL: target.url })
    const bad = { ...good, name: 'BAD', headers: { 'x-evil': 'a\r\nInjected: 1' } }
    const e1 = await rejection(request(bad, { path: '/a' }))
    expect(hasErrorCode(e1, 'DESTINATION_INVALID')).toBe(true)
    const e2 = await rejection(request(good, { path: '/a', headers: { 'x-evil': 'a\nb' } }))
    expect(hasErrorCode(e2, 'REQUEST_INVALID')).toBe(true)
    expect(e2.details?.requestSent).toBe(false)
    const e3 = await rejection(request(good, { path: '/a', headers: { 'bad name': 'x' } }))
    expect(hasErrorCode(e3, 'REQUEST_INVALID')).toBe(true)
    const e4 = await rejection(request(good, { path: '/a b' }))
    expect(hasErrorCode(e4, 'REQUEST_INVALID')).toBe(true)
    expect(target.records).toHaveLength(0)
  })

  it('misuse throws TypeError/RangeError naming the option', async () => {
    const d = httpDest({ Name: 'T', URL: target.url })
    await expect(request(d, { timeout: -1 })).rejects.toThrow(RangeError)
    await expect(request(d, { method: 'GE T' })).rejects.toThrow(/method/)
    await expect(request(d, { principalPropagation: 'x' as 'forward' })).rejects.toThrow(
      /principalPropagation/,
    )
  })
})

describe('request — timeouts and aborts', () => {
  it('aborts after the per-call timeout with HTTP_TIMEOUT, requestSent true', async () => {
    const d = httpDest({ Name: 'T', URL: target.url })
    const started = Date.now()
    const e = await rejection(request(d, { path: '/slow?ms=5000', timeout: 200 }))
    expect(hasErrorCode(e, 'HTTP_TIMEOUT')).toBe(true)
    expect(e.details?.requestSent).toBe(true)
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('does not time out a slow consumer of a large body (backpressure pauses the deadline)', async () => {
    const d = httpDest({ Name: 'T', URL: target.url })
    const res = await request(d, { path: '/big?kb=2048', timeout: 300 })
    expect(res.status).toBe(200)
    await new Promise((r) => setTimeout(r, 600))
    expect((await res.arrayBuffer()).byteLength).toBe(2048 * 1024)
  })

  it('honours the destination timeout property', async () => {
    const d = httpDest({ Name: 'T', URL: target.url, timeout: '150' })
    const e = await rejection(request(d, { path: '/slow?ms=5000' }))
    expect(hasErrorCode(e, 'HTTP_TIMEOUT')).toBe(true)
    expect(e.details?.timeoutMs).toBe(150)
  })

  it('honours an AbortSignal (REQUEST_ABORTED)', async () => {
    const d = httpDest({ Name: 'T', URL: target.url })
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 100)
    const e = await rejection(request(d, { path: '/slow?ms=5000', signal: ac.signal }))
    expect(hasErrorCode(e, 'REQUEST_ABORTED')).toBe(true)
    expect(e.details?.requestSent).toBe(true)
    const pre = await rejection(request(d, { path: '/x', signal: AbortSignal.abort() }))
    expect(hasErrorCode(pre, 'REQUEST_ABORTED')).toBe(true)
    expect(pre.details?.requestSent).toBe(false)
  })

  it('maps a refused connection to CONNECT_FAILED with requestSent false and a cause', async () => {
    const dead = await startTarget()
    const url = dead.url
    await dead.close()
    const d = httpDest({ Name: 'DEAD', URL: url })
    const e = await rejection(request(d, { path: '/x' }))
    expect(hasErrorCode(e, 'CONNECT_FAILED')).toBe(true)
    expect(e.details?.requestSent).toBe(false)
    expect(e.cause).toBeDefined()
    expect(e.message).toContain('127.0.0.1')
    expect(isConnectivityError(e)).toBe(true)
  })
})

describe('request — CSRF', () => {
  it('fetches the token once per route and user, then POSTs cost one round trip', async () => {
    const d = httpDest({ Name: 'CSRF', URL: target.url })
    target.csrfFetches = 0
    for (let i = 0; i < 3; i++) {
      const res = await request(d, { method: 'POST', path: '/csrf/items', body: { i } })
      expect(res.status).toBe(200)
      await res.text()
    }
    expect(target.csrfFetches).toBe(1)
    const heads = target.records.filter((r) => r.method === 'HEAD')
    expect(heads).toHaveLength(1)
    expect(heads[0]?.headers['x-csrf-token']).toBe('Fetch')
    const posts = target.records.filter((r) => r.method === 'POST')
    expect(posts).toHaveLength(3)
    expect(String(posts[2]?.headers.cookie)).toContain('SAP_SESSIONID=')
  })

  it('refetches after 403 x-csrf-token: Required and retries once', async () => {
    const d = httpDest({ Name: 'CSRF2', URL: target.url })
    await (await request(d, { method: 'POST', path: '/csrf/a', body: 'x' })).text()
    target.expireCsrf()
    target.records.length = 0
    const res = await request(d, { method: 'PUT', path: '/csrf/a', body: 'y' })
    expect(res.status).toBe(200)
    expect(target.records.map((r) => r.method)).toEqual(['PUT', 'HEAD', 'PUT'])
  })

  it('does no CSRF for GET, with csrf:false, or with the destination property csrf=false', async () => {
    const d = httpDest({ Name: 'NOCSRF', URL: target.url, csrf: 'false' })
    await (await request(d, { method: 'POST', path: '/x', body: 'a' })).text()
    const d2 = httpDest({ Name: 'C2', URL: target.url })
    await (await request(d2, { method: 'POST', path: '/x', body: 'a', csrf: false })).text()
    await (await request(d2, { path: '/x' })).text()
    expect(target.records.some((r) => r.method === 'HEAD')).toBe(false)
  })
})
