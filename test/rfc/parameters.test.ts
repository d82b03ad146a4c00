import { randomBytes } from 'node:crypto'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDestination } from '../../lib/destination/parse'
import type { RfcDestination } from '../../lib/destination/types'
import { gatewayPort, loopbackAddressFor } from '../../lib/rfc/gateway'
import { mapRfcPoolOptions, mapRfcSettings } from '../../lib/rfc/jco-mapping'
import { rfc } from '../../lib/rfc/call'
import { rfcParameters } from '../../lib/rfc/rfc-parameters'
import {
  echoExact,
  type OnPremiseEnv,
  sha256,
  startEcho,
  startOnPremiseEnv,
  type TestServer,
} from '../tcp/helpers'

const PASSWORD = 'Rfc-Secret-SENTINEL-93'
const base = {
  Name: 'ERP_RFC',
  Type: 'RFC',
  'jco.client.client': '100',
  'jco.client.user': 'RFC_USER',
  'jco.client.passwd': PASSWORD,
}
const rfcDest = (props: Record<string, string>) =>
  parseDestination({ ...base, 'jco.destination.proxy_type': 'Internet', ...props }) as RfcDestination

describe('rfcParameters — jco.* to node-rfc parameters', () => {
  it('maps a direct application server with logon data', async () => {
    const d = rfcDest({
      'jco.client.ashost': 'erp.example.com',
      'jco.client.sysnr': '00',
      'jco.client.lang': 'de',
      'jco.client.alias_user': 'JOHN.DOE.LONG.ALIAS',
    })
    expect(await rfcParameters(d)).toEqual({
      ashost: 'erp.example.com',
      sysnr: '00',
      client: '100',
      user: 'RFC_USER',
      passwd: PASSWORD,
      lang: 'DE',
      alias_user: 'JOHN.DOE.LONG.ALIAS',
    })
  })

  it('maps load balancing with r3name (as sysid) and the PUBLIC default group, or msserv and a group', async () => {
    expect(
      await rfcParameters(rfcDest({ 'jco.client.mshost': 'ms.example.com', 'jco.client.r3name': 'S4H' })),
    ).toMatchObject({
      mshost: 'ms.example.com',
      sysid: 'S4H',
      group: 'PUBLIC',
    })
    const p = await rfcParameters(
      rfcDest({
        'jco.client.mshost': 'ms.example.com',
        'jco.client.msserv': '3601',
        'jco.client.group': 'SPACE',
      }),
    )
    expect(p).toMatchObject({ mshost: 'ms.example.com', msserv: '3601', group: 'SPACE' })
    expect(p.ashost).toBeUndefined()
  })

  it('maps WebSocket RFC, a SAProuter string, SNC and TLS options; drops JCo/BTP-only keys', async () => {
    const p = await rfcParameters(
      rfcDest({
        'jco.client.wshost': 'erp.example.com',
        'jco.client.wsport': '44300',
        'jco.client.tls_client_pse': 'client.pse',
        'jco.client.saprouter': '/H/router.example.com/S/3299/H/',
        'jco.client.snc_partnername': 'p:CN=S4H',
        'jco.client.trace': '1',
        'jco.client.network': 'WAN',
        'jco.client.serialization_format': 'columnBased',
        'jco.destination.ws_ping_period': '60',
      }),
    )
    expect(p).toEqual({
      wshost: 'erp.example.com',
      wsport: '44300',
      saprouter: '/H/router.example.com/S/3299/H/',
      client: '100',
      user: 'RFC_USER',
      passwd: PASSWORD,
      tls_client_pse: 'client.pse',
      snc_partnername: 'p:CN=S4H',
      trace: '1',
    })
  })

  it('allows SNC logon without user and password', async () => {
    const d = parseDestination({
      Name: 'SNC',
      Type: 'RFC',
      'jco.client.client': '001',
      'jco.client.ashost': 'erp',
      'jco.client.sysnr': '10',
      'jco.client.snc_mode': '1',
      'jco.client.snc_partnername': 'p:CN=ERP',
      'jco.client.tls_client_certificate_logon': 'true',
    }) as RfcDestination
    expect(mapRfcSettings(d)).toMatchObject({ snc_mode: '1', ashost: 'erp', sysnr: '10' })
  })

  it('derives node-rfc pool sizes from the JCo pooling properties', () => {
    expect(mapRfcPoolOptions(rfcDest({ 'jco.client.ashost': 'h', 'jco.client.sysnr': '00' }))).toEqual({
      low: 1,
      high: 10,
      maxGetClientTimeMs: 30_000,
      expirationTimeMs: 60_000,
    })
    const d = rfcDest({
      'jco.client.ashost': 'h',
      'jco.client.sysnr': '00',
      'jco.destination.pool_capacity': '3',
      'jco.destination.peak_limit': '20',
      'jco.destination.max_get_client_time': '5000',
      'jco.destination.expiration_time': '120000',
    })
    expect(mapRfcPoolOptions(d)).toEqual({
      low: 3,
      high: 20,
      maxGetClientTimeMs: 5000,
      expirationTimeMs: 120_000,
    })
  })

  const invalid: [string, Record<string, string>, RegExp][] = [
    ['sysnr of one digit', { 'jco.client.ashost': 'h', 'jco.client.sysnr': '0' }, /jco\.client\.sysnr/],
    [
      'client of two digits',
      { 'jco.client.ashost': 'h', 'jco.client.sysnr': '00', 'jco.client.client': '10' },
      /jco\.client\.client/,
    ],
    [
      'user of 13 characters',
      { 'jco.client.ashost': 'h', 'jco.client.sysnr': '00', 'jco.client.user': 'ABCDEFGHIJKLM' },
      /jco\.client\.user/,
    ],
    ['no host at all', {}, /jco\.client\.ashost/],
    ['ashost without sysnr', { 'jco.client.ashost': 'h' }, /jco\.client\.sysnr/],
    ['mshost without r3name/msserv', { 'jco.client.mshost': 'm' }, /jco\.client\.r3name/],
    ['a bad system id', { 'jco.client.mshost': 'm', 'jco.client.r3name': 'TOOLONG' }, /jco\.client\.r3name/],
    [
      'a bad SAProuter string',
      { 'jco.client.ashost': 'h', 'jco.client.sysnr': '00', 'jco.client.saprouter': 'router:3299' },
      /saprouter/,
    ],
    [
      'a bad language',
      { 'jco.client.ashost': 'h', 'jco.client.sysnr': '00', 'jco.client.lang': 'GERMAN' },
      /jco\.client\.lang/,
    ],
    [
      'a propagated user',
      {
        'jco.client.ashost': 'h',
        'jco.client.sysnr': '00',
        'jco.destination.auth_type': 'PrincipalPropagation',
      },
      /auth_type/,
    ],
  ]
  for (const [what, props, property] of invalid) {
    it(`rejects ${what} with DESTINATION_INVALID naming the property, never the password`, async () => {
      let err: unknown
      try {
        await rfcParameters(rfcDest(props))
      } catch (e) {
        err = e
      }
      expect(err).toMatchObject({ code: 'DESTINATION_INVALID', message: expect.stringMatching(property) })
      expect(
        JSON.stringify({ m: (err as Error).message, d: (err as { details: unknown }).details }),
      ).not.toContain(PASSWORD)
    })
  }

  it('rejects non-RFC destinations', async () => {
    const http = parseDestination({ Name: 'WEB', Type: 'HTTP', URL: 'http://127.0.0.1:1' })
    await expect(rfcParameters(http)).rejects.toMatchObject({
      code: 'DESTINATION_INVALID',
      message: expect.stringContaining('Type RFC'),
    })
  })
})

describe('rfcParameters — OnPremise gateway port', () => {
  let gateway: TestServer
  let env: OnPremiseEnv
  beforeAll(async () => {
    gateway = await startEcho() // stands in for the ABAP gateway behind the Cloud Connector
    env = await startOnPremiseEnv({ LOC_ERP: { 'erp.virtual:3347': gateway.port } })
  })
  afterAll(async () => {
    await rfc.close()
    await env.close()
    await gateway.close()
  })

  const onPrem = (extra: Record<string, string> = {}) =>
    rfcDest({
      'jco.client.ashost': 'erp.virtual',
      'jco.client.sysnr': '47',
      'jco.destination.proxy_type': 'OnPremise',
      'jco.client.cloud_connector_location_id': 'LOC_ERP',
      ...extra,
    })

  it('listens on 33<NN> of a per-destination loopback address and carries RFC bytes through the proxy', async () => {
    const p = await rfcParameters(onPrem())
    expect(p.sysnr).toBe('47')
    expect(p.ashost).toMatch(/^127\.\d+\.\d+\.\d+$/)
    expect(p.ashost).not.toBe('127.0.0.1')
    // What node-rfc does: connect to ashost on the port derived from sysnr.
    const socket = net.connect({ host: p.ashost, port: gatewayPort(p.sysnr as string, false) })
    const payload = randomBytes(50_000)
    expect(sha256(await echoExact(socket, payload))).toBe(sha256(payload))
    socket.destroy()
    const rec = env.proxy.records.find((r) => r.kind === 'socks5' && r.target === 'erp.virtual:3347')
    expect(rec?.locationId).toBe('LOC_ERP')
    // The same destination keeps its address and port.
    expect((await rfcParameters(onPrem())).ashost).toBe(p.ashost)
  })

  it('uses 48<NN> with SNC and derives distinct addresses per key', () => {
    expect(gatewayPort('47', true)).toBe(4847)
    expect(gatewayPort('00', false)).toBe(3300)
    expect(loopbackAddressFor('A', 0)).not.toBe(loopbackAddressFor('B', 0))
    expect(loopbackAddressFor('A', 0)).not.toBe(loopbackAddressFor('A', 1))
  })

  it('refuses OnPremise shapes a local port cannot serve (load balancing, WebSocket RFC, SAProuter)', async () => {
    const mk = (props: Record<string, string>) =>
      rfcDest({ 'jco.destination.proxy_type': 'OnPremise', ...props })
    await expect(
      rfcParameters(mk({ 'jco.client.mshost': 'ms.virtual', 'jco.client.r3name': 'S4H' })),
    ).rejects.toMatchObject({
      code: 'DESTINATION_INVALID',
      message: expect.stringContaining('load balancing'),
    })
    await expect(
      rfcParameters(mk({ 'jco.client.wshost': 'ws.virtual', 'jco.client.wsport': '443' })),
    ).rejects.toMatchObject({
      code: 'DESTINATION_INVALID',
    })
    await expect(
      rfcParameters(
        mk({
          'jco.client.ashost': 'erp.virtual',
          'jco.client.sysnr': '00',
          'jco.client.saprouter': '/H/r/S/3299/H/',
        }),
      ),
    ).rejects.toMatchObject({ code: 'DESTINATION_INVALID', message: expect.stringContaining('saprouter') })
  })
})
