import { fetch } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { hasErrorCode } from '../../lib/errors'
import { createDispatcher } from '../../lib/http/dispatcher'
import { executeHttpRequest, HttpStatusError } from '../../lib/http/execute'
import { registerDestination, clearDestinationCache } from '../../lib/destination/resolve'
import { type FakeConnectivityProxy, startConnectivityProxy } from '../fixtures/connectivity-proxy'
import { userJwt } from '../fixtures/jwt'
import { type FakeTarget, startTarget } from '../fixtures/target-server'
import { httpDest, resetClient } from './helpers'
import { saveEnv } from '../fixtures/env'
import { bindConnectivity } from '../fixtures/connectivity-binding'

let target: FakeTarget
let proxy: FakeConnectivityProxy
const vcapEnv = saveEnv('VCAP_SERVICES')

beforeAll(async () => {
  target = await startTarget()
  proxy = await startConnectivityProxy({
    trusted: true,
    mappings: { '': { 'virtual-s4:44300': target.port } },
  })
})
afterAll(async () => {
  await Promise.all([target.close(), proxy.close()])
})
afterEach(async () => {
  target.records.length = 0
  proxy.records.length = 0
  vcapEnv.restore()
  clearDestinationCache()
  await resetClient()
})

describe('createDispatcher with undici fetch', () => {
  it('applies destination headers, auth and CSRF', async () => {
    const d = httpDest({
      Name: 'F',
      URL: target.url,
      User: 'u',
      Password: 'p',
      'URL.headers.x-dest': '1',
      'sap-client': '200',
    })
    const dispatcher = createDispatcher(d)
    const res = await fetch(`${target.url}/csrf/items`, { method: 'POST', body: 'x', dispatcher })
    expect(res.status).toBe(200)
    const echo = (await res.json()) as { headers: Record<string, string> }
    expect(echo.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`)
    expect(echo.headers['x-dest']).toBe('1')
    expect(echo.headers['sap-client']).toBe('200')
    expect(target.records.map((r) => r.method)).toEqual(['HEAD', 'POST'])
  })

  it('routes OnPremise destinations through the connectivity proxy with absolute URIs', async () => {
    bindConnectivity(
      { onpremise_proxy_host: '127.0.0.1', onpremise_proxy_http_port: String(proxy.httpPort) },
      { name: 'c' },
    )
    const d = httpDest({
      Name: 'OP',
      URL: 'http://virtual-s4:44300',
      ProxyType: 'OnPremise',
      CloudConnectorLocationId: '',
    })
    const res = await fetch('http://virtual-s4:44300/sap/x?y=1', { dispatcher: createDispatcher(d) })
    expect(res.status).toBe(200)
    await res.text()
    expect(proxy.records[0]?.target).toBe('http://virtual-s4:44300/sap/x?y=1')
  })

  it('turns a 503 of the connectivity proxy into NO_AGENT for fetch', async () => {
    bindConnectivity(
      { onpremise_proxy_host: '127.0.0.1', onpremise_proxy_http_port: String(proxy.httpPort) },
      { name: 'c' },
    )
    const d = httpDest({
      Name: 'OPX',
      URL: 'http://virtual-s4:44300',
      ProxyType: 'OnPremise',
      CloudConnectorLocationId: 'NOWHERE',
    })
    const err = await fetch('http://virtual-s4:44300/x', { dispatcher: createDispatcher(d) }).catch(
      (e: Error) => e,
    )
    expect(hasErrorCode((err as Error).cause, 'NO_AGENT')).toBe(true)
  })

  it('refuses a URL whose origin is not the destination (credentials never leave)', async () => {
    const d = httpDest({ Name: 'F', URL: target.url, User: 'u', Password: 'secret-SENTINEL' })
    const err = await fetch(`http://127.0.0.1:${proxy.httpPort}/x`, {
      dispatcher: createDispatcher(d),
    }).catch((e: Error) => e)
    expect(err).toBeInstanceOf(Error)
    expect(hasErrorCode((err as Error).cause, 'REQUEST_INVALID')).toBe(true)
    expect(target.records).toHaveLength(0)
    expect(proxy.records).toHaveLength(0)
  })

  it('resolves destination names', async () => {
    registerDestination({ Name: 'REG', Type: 'HTTP', URL: target.url, 'URL.headers.x-reg': 'yes' })
    const res = await fetch(`${target.url}/n`, { dispatcher: createDispatcher('REG') })
    expect(((await res.json()) as { headers: Record<string, string> }).headers['x-reg']).toBe('yes')
  })
})

describe('executeHttpRequest (Cloud SDK call shape)', () => {
  it('accepts { destinationName, jwt } and returns { status, headers, data } with parsed JSON', async () => {
    registerDestination({ Name: 'SDK', Type: 'HTTP', URL: `${target.url}/base` })
    const res = await executeHttpRequest<{ url: string }>(
      { destinationName: 'SDK', jwt: userJwt('alice', 'z1', 'sub') },
      { method: 'get', url: '/items', params: { $top: 1 } },
    )
    expect(res.status).toBe(200)
    expect(res.data.url).toBe('/base/items?$top=1')
    expect(res.headers['content-type']).toBe('application/json')
  })

  it('accepts a Destination object, sends data as JSON and fetches CSRF', async () => {
    const d = httpDest({ Name: 'OBJ', URL: target.url })
    const res = await executeHttpRequest<{ body: string }>(d, {
      method: 'post',
      url: '/csrf/x',
      data: { a: 1 },
    })
    expect(res.data.body).toBe('{"a":1}')
    const noCsrf = await executeHttpRequest(
      d,
      { method: 'post', url: '/x', data: 'raw' },
      { fetchCsrfToken: false },
    )
    expect(noCsrf.status).toBe(200)
    expect(target.records.filter((r) => r.method === 'HEAD')).toHaveLength(1)
  })

  it('accepts a Cloud SDK destination object ({ url, username, password })', async () => {
    const sdkDest = { url: `${target.url}/sdk`, username: 'u', password: 'p' }
    const res = await executeHttpRequest<{ url: string; headers: Record<string, string> }>(sdkDest, {
      method: 'get',
      url: '/a',
    })
    expect(res.data.url).toBe('/sdk/a')
    expect(res.data.headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`)
  })

  it('throws HTTP_ERROR with response for status >= 400, like the SDK', async () => {
    const d = httpDest({ Name: 'OBJ', URL: target.url })
    const e = await executeHttpRequest(d, { url: '/status/500' }).catch((err: unknown) => err)
    expect(e).toBeInstanceOf(HttpStatusError)
    expect((e as HttpStatusError).response.status).toBe(500)
    expect((e as HttpStatusError).response.data).toEqual({ status: 500 })
    expect(hasErrorCode(e, 'HTTP_ERROR')).toBe(true)
  })

  it('honours timeout', async () => {
    const d = httpDest({ Name: 'OBJ', URL: target.url })
    const e = await executeHttpRequest(d, { url: '/slow?ms=3000', timeout: 100 }).catch((err: unknown) => err)
    expect(hasErrorCode(e, 'HTTP_TIMEOUT')).toBe(true)
  })
})
