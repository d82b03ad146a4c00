import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDestination } from '../../lib/destination/parse'
import { rfc } from '../../lib/rfc/call'
import { type AbapSoapServer, startAbapSoapServer } from '../fixtures/abap-soap'
import { echoExact, sha256, startEcho, type TestServer } from '../tcp/helpers'
import { startTunnelEnv, type TunnelEnv, tcpMapping } from '../tcp/tunnel-env'
import net from 'node:net'
import { randomBytes } from 'node:crypto'
import { rfcParameters } from '../../lib/rfc/rfc-parameters'

describe('RFC through our tunnel', () => {
  let abap: AbapSoapServer
  let gateway: TestServer
  let tunnel: TunnelEnv
  beforeAll(async () => {
    abap = await startAbapSoapServer({ user: 'RFC_USER', password: 'tunnel-pass-1', client: '200' })
    gateway = await startEcho()
    tunnel = await startTunnelEnv(
      [
        {
          protocol: 'HTTP',
          virtualHost: 'erp.virtual',
          virtualPort: 8000,
          internalHost: '127.0.0.1',
          internalPort: abap.port,
          resources: [{ path: '/sap/bc/soap/rfc', subPaths: false }],
        },
        tcpMapping('erp.virtual', 3312, gateway.port),
      ],
      'LOC_RFC',
    )
  })
  afterAll(async () => {
    await rfc.close()
    await tunnel.close()
    await gateway.close()
    await abap.close()
  })

  it('calls SOAP-RFC on an OnPremise HTTP destination through the agent', async () => {
    const dest = parseDestination({
      Name: 'ERP_ONPREM_SOAP',
      Type: 'HTTP',
      URL: 'http://erp.virtual:8000',
      ProxyType: 'OnPremise',
      CloudConnectorLocationId: 'LOC_RFC',
      Authentication: 'BasicAuthentication',
      User: 'RFC_USER',
      Password: 'tunnel-pass-1',
      'sap-client': '200',
    })
    const r = await rfc.call(dest, 'BAPI_SALESORDER_GETLIST', { CUSTOMER_NUMBER: '0000001000' })
    expect((r.SALES_ORDERS as { SD_DOC: string }[]).map((o) => o.SD_DOC)).toEqual([
      '0000004711',
      '0000004712',
    ])
    expect(abap.requests.at(-1)?.url).toBe('/sap/bc/soap/rfc?sap-client=200')
    await expect(rfc.call(dest, 'RFC_READ_TABLE', { QUERY_TABLE: 'NOPE' })).rejects.toMatchObject({
      code: 'RFC_ABAP_EXCEPTION',
      key: 'TABLE_NOT_AVAILABLE',
    })
  })

  it('carries node-rfc gateway traffic (33<NN>) of an OnPremise RFC destination through the tunnel', async () => {
    const dest = parseDestination({
      Name: 'ERP_ONPREM_RFC',
      Type: 'RFC',
      'jco.destination.proxy_type': 'OnPremise',
      'jco.client.cloud_connector_location_id': 'LOC_RFC',
      'jco.client.ashost': 'erp.virtual',
      'jco.client.sysnr': '12',
      'jco.client.client': '200',
      'jco.client.user': 'RFC_USER',
      'jco.client.passwd': 'tunnel-pass-1',
    })
    const p = await rfcParameters(dest)
    const socket = net.connect({ host: p.ashost, port: 3312 })
    const payload = randomBytes(100_000)
    expect(sha256(await echoExact(socket, payload))).toBe(sha256(payload))
    socket.destroy()
  })
})
