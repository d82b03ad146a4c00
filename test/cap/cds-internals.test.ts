/**
 * Tripwire for the two @sap/cds internals lib/cap/cds-internals.ts borrows. When a CAP upgrade
 * changes them this test fails with a clear message — update cds-internals.ts, then this test.
 */
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  buildRequestConfig,
  capInternals,
  DATA_MODULE,
  QUERY_MODULE,
  remoteSettings,
  responseTarget,
} from '../../lib/cap/cds-internals'
import type { CdsRequest, RemoteServiceInstance } from '../../lib/cap/cds'
import { purgeForKind } from '../../lib/cap/response'

const cds = require('@sap/cds')
const { SELECT } = cds.ql
const app = path.resolve(__dirname, '..', '..', 'sample-app')
let srv: RemoteServiceInstance & {
  entities: Record<string, unknown>
  prepend(fn: (this: { on(e: string, h: (r: CdsRequest) => unknown): void }) => void): void
  run(q: unknown): Promise<unknown>
}
let v4: RemoteServiceInstance

function req(query: unknown): CdsRequest {
  return new cds.Request({ query }) as CdsRequest
}

beforeAll(async () => {
  cds.root = app
  const model = await cds.load(path.join(app, 'srv', 'external', 'API_SALES_ORDER_SRV'))
  const csn = cds.linked(cds.compile.for.nodejs(model))
  const base = { model: csn, credentials: { url: 'http://s4.invalid/sap' }, connectivity: false }
  srv = await cds.connect.to('API_SALES_ORDER_SRV', { ...base, kind: 'odata-v2' })
  v4 = await cds.connect.to('API_SALES_ORDER_SRV_V4', {
    ...base,
    kind: 'odata',
    service: 'API_SALES_ORDER_SRV',
  })
})

describe('CAP internals used by the plugin', () => {
  it(`${QUERY_MODULE} still exports extractRequestConfig(req, srv)`, () => {
    const mod = require(QUERY_MODULE)
    expect(typeof mod.extractRequestConfig, 'extractRequestConfig moved or was renamed').toBe('function')
    expect(mod.extractRequestConfig.length, 'extractRequestConfig changed its arity (cds 9 had 3)').toBe(2)
  })

  it(`${DATA_MODULE} still exports convertV2ResponseData(data, target, returnType)`, () => {
    const mod = require(DATA_MODULE)
    expect(typeof mod.convertV2ResponseData).toBe('function')
    expect(mod.convertV2ResponseData.length).toBeGreaterThanOrEqual(2)
    expect(capInternals().convertV2ResponseData).toBe(mod.convertV2ResponseData)
  })

  it('builds the OData V2 URL CAP sends for the seed query', () => {
    const q = SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder')
      .where({ TransactionCurrency: 'AED' })
      .orderBy({ TotalNetAmount: 'desc' })
      .limit(10)
    const rc = buildRequestConfig(req(q), srv)
    expect(rc.method).toBe('GET')
    expect(rc.url).toBe(
      "/A_SalesOrder?$filter=TransactionCurrency%20eq%20'AED'&$orderby=TotalNetAmount%20desc&$top=10",
    )
    expect(rc.headers.accept).toBe('application/json,text/plain')
  })

  it('uses V2 literals for odata-v2 and V4 literals for odata', () => {
    const q = () =>
      SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder')
        .columns('SalesOrder')
        .where({ CreationDate: { '>=': '2024-06-01' }, TotalNetAmount: { '>': 100 } })
    expect(buildRequestConfig(req(q()), srv).url).toContain("datetime'2024-06-01T00%3A00%3A00'")
    expect(buildRequestConfig(req(q()), srv).url).toContain('100m')
    expect(buildRequestConfig(req(q()), v4).url).toContain('CreationDate%20ge%202024-06-01')
  })

  it('wraps a GET longer than max_get_url_length into POST /$batch', () => {
    const keys = Array.from({ length: 120 }, (_, i) => String(1000001 + i))
    const rc = buildRequestConfig(
      req(SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder').where({ SalesOrder: { in: keys } })),
      srv,
    )
    expect(rc.method).toBe('POST')
    expect(rc.url).toBe('/$batch')
    expect(rc._autoBatchedGet).toBe(true)
    expect(String(rc.data)).toContain('GET A_SalesOrder?$filter=')
  })

  it('converts V2 dates the way CAP does', () => {
    const target = (srv as unknown as { entities: Record<string, unknown> }).entities.A_SalesOrder
    const rows = purgeForKind(
      'odata-v2',
      {
        d: {
          results: [{ SalesOrder: '1', CreationDate: '/Date(1704758400000)/', __metadata: { uri: 'x' } }],
          __count: '1',
        },
      },
      target,
      undefined,
    ) as Record<string, unknown>[] & { $count?: unknown }
    expect(rows).toEqual([{ SalesOrder: '1', CreationDate: '2024-01-09' }])
    expect(rows.$count).toBe('1')
  })

  it('RemoteService.init() still derives kind, requestTimeout and csrf on the instance', async () => {
    expect(remoteSettings(srv)).toEqual({
      kind: 'odata-v2',
      requestTimeout: 60_000,
      csrf: undefined,
      csrfInBatch: undefined,
    })
    // odata-v4 is normalised to odata, credentials.requestTimeout and csrf are taken over.
    const model = await cds.load(path.join(app, 'srv', 'external', 'API_SALES_ORDER_SRV'))
    const other = await cds.connect.to('TRIP_V4', {
      kind: 'odata-v4',
      model: cds.linked(cds.compile.for.nodejs(model)),
      credentials: { url: 'http://s4.invalid', requestTimeout: 1234 },
      csrf: true,
      csrfInBatch: true,
      connectivity: false,
    })
    expect(remoteSettings(other)).toEqual({
      kind: 'odata',
      requestTimeout: 1234,
      csrf: true,
      csrfInBatch: true,
    })
  })

  it('requests inside a remote service carry their resolved target for response conversion', async () => {
    let target: { name?: string; elements?: object } | undefined
    // A handler ahead of the transport sees the request as our handler does.
    srv.prepend(function (this: { on(e: string, h: (r: CdsRequest) => unknown): void }) {
      this.on('READ', (r: CdsRequest) => {
        target = responseTarget(r) as typeof target
        return []
      })
    })
    await srv.run(SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder').columns('SalesOrder'))
    expect(target?.name).toBe('API_SALES_ORDER_SRV.A_SalesOrder')
    expect(target?.elements).toHaveProperty('CreationDate')
  })
})
