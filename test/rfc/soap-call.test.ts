import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDestination } from '../../lib/destination/parse'
import { rfc } from '../../lib/rfc/call'
import { RfcError } from '../../lib/rfc/rfc-error'
import { type AbapSoapServer, startAbapSoapServer } from '../fixtures/abap-soap'

const PASSWORD = 'Abap-Pass-SENTINEL-55'

describe('rfc.call over SOAP-RFC — direct', () => {
  let abap: AbapSoapServer
  let erp: ReturnType<typeof parseDestination>
  beforeAll(async () => {
    abap = await startAbapSoapServer({ user: 'RFC_USER', password: PASSWORD, client: '100' })
    erp = parseDestination({
      Name: 'ERP_SOAP',
      Type: 'HTTP',
      URL: abap.url,
      ProxyType: 'Internet',
      Authentication: 'BasicAuthentication',
      User: 'RFC_USER',
      Password: PASSWORD,
      'sap-client': '100',
    })
  })
  afterAll(() => abap.close())

  it('calls STFC_CONNECTION with one SOAP 1.1 POST to /sap/bc/soap/rfc?sap-client=100, no CSRF fetch', async () => {
    const before = abap.requests.length
    const r = await rfc.call(erp, 'STFC_CONNECTION', { REQUTEXT: 'Grüße & <hello>' })
    expect(r.ECHOTEXT).toBe('Grüße & <hello>')
    expect(r.RESPTEXT).toMatch(/Sysid: S4H .*Logon_Data: 100\/RFC_USER\/E/)
    const sent = abap.requests.slice(before)
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatchObject({
      method: 'POST',
      url: '/sap/bc/soap/rfc?sap-client=100',
      functionModule: 'STFC_CONNECTION',
    })
    expect(sent[0]?.headers['content-type']).toBe('text/xml; charset=utf-8')
    expect(sent[0]?.headers['x-csrf-token']).toBeUndefined()
    expect(sent[0]?.body).toContain('urn:sap-com:document:sap:rfc:functions')
  })

  it('reads RFC_READ_TABLE: tables as arrays, values exactly as ABAP sent them', async () => {
    const r = await rfc.call(erp, 'RFC_READ_TABLE', {
      QUERY_TABLE: 'VBAK',
      DELIMITER: '|',
      FIELDS: [{ FIELDNAME: 'VBELN' }, { FIELDNAME: 'AUART' }, { FIELDNAME: 'NETWR' }],
      OPTIONS: [{ TEXT: "KUNNR = '0000001000'" }],
      DATA: [],
    })
    expect(r.FIELDS).toEqual([
      { FIELDNAME: 'VBELN', OFFSET: '000000', LENGTH: '000010', TYPE: 'C', FIELDTEXT: 'Sales Document' },
      { FIELDNAME: 'AUART', OFFSET: '000011', LENGTH: '000004', TYPE: 'C', FIELDTEXT: 'Sales Document Type' },
      { FIELDNAME: 'NETWR', OFFSET: '000016', LENGTH: '000015', TYPE: 'P', FIELDTEXT: 'Net Value' },
    ])
    expect(r.DATA).toEqual([{ WA: '0000004711|TA  |1250.00' }, { WA: '0000004712|TA  |99.90' }])
    // No row matches: still an array, because DATA was sent as a table.
    const none = await rfc.call(erp, 'RFC_READ_TABLE', {
      QUERY_TABLE: 'VBAK',
      OPTIONS: [{ TEXT: "KUNNR = '9'" }],
      DATA: [],
    })
    expect(none.DATA).toEqual([])
  })

  it('reads BAPI_SALESORDER_GETLIST: RETURN as a structure, a one-row table as an array of one, escaped names', async () => {
    const r = await rfc.call(
      erp,
      'BAPI_SALESORDER_GETLIST',
      { CUSTOMER_NUMBER: '0000017100', SALES_ORGANIZATION: '1710' },
      { tables: ['SALES_ORDERS'] },
    )
    expect(r.RETURN).toMatchObject({ TYPE: '', MESSAGE: '', LOG_MSG_NO: '000000' })
    expect(r.SALES_ORDERS).toEqual([
      expect.objectContaining({
        SD_DOC: '0000004713',
        ITM_NUMBER: '000010',
        NET_VAL_HD: '7300.50',
        CURRENCY: 'USD',
        DOC_DATE: '20261110',
        DIVISION: '00',
      }),
    ])
    const two = await rfc.call(erp, 'BAPI_SALESORDER_GETLIST', { CUSTOMER_NUMBER: '0000001000' })
    expect((two.SALES_ORDERS as { NAME: string }[]).map((o) => o.NAME)).toEqual([
      'Müller & Söhne <GmbH>',
      'Müller & Söhne <GmbH>',
    ])
    const missing = await rfc.call(erp, 'BAPI_SALESORDER_GETLIST', {}, { tables: ['SALES_ORDERS'] })
    expect(missing).toMatchObject({
      RETURN: { TYPE: 'E', MESSAGE: 'Please enter a customer number' },
      SALES_ORDERS: [],
    })
  })

  it('maps an ABAP exception (SOAP fault) to RfcError RFC_ABAP_EXCEPTION with key and text', async () => {
    const err = await rfc.call(erp, 'RFC_READ_TABLE', { QUERY_TABLE: 'ZNOTTHERE' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RfcError)
    expect(err).toMatchObject({
      code: 'RFC_ABAP_EXCEPTION',
      key: 'TABLE_NOT_AVAILABLE',
      message: 'Table ZNOTTHERE is not available',
    })
    await expect(
      rfc.call(erp, 'RFC_READ_TABLE', { QUERY_TABLE: 'VBAK', OPTIONS: [{ TEXT: 'NETWR > 5' }] }),
    ).rejects.toMatchObject({
      key: 'OPTION_NOT_VALID',
    })
  })

  it('reports an unknown function module as RFC_FAILED and a failed logon without the password', async () => {
    await expect(rfc.call(erp, 'Z_DOES_NOT_EXIST', {})).rejects.toMatchObject({
      code: 'RFC_FAILED',
      message: expect.stringContaining('not found'),
    })
    const wrong = parseDestination({
      Name: 'ERP_WRONG',
      Type: 'HTTP',
      URL: `${abap.url}/sap/bc/soap/rfc`,
      Authentication: 'BasicAuthentication',
      User: 'RFC_USER',
      Password: `${PASSWORD}-wrong`,
    })
    const err = (await rfc
      .call(wrong, 'STFC_CONNECTION', { REQUTEXT: 'x' })
      .catch((e: unknown) => e)) as RfcError
    expect(err).toMatchObject({ code: 'RFC_FAILED', details: expect.objectContaining({ status: 401 }) })
    expect(err.message).toContain('logon failed')
    expect(JSON.stringify(err)).not.toContain(PASSWORD)
  })

  it('checks arguments', async () => {
    await expect(rfc.call(erp, '', {})).rejects.toThrow(TypeError)
    await expect(rfc.call(erp, 'X', [] as never)).rejects.toThrow(TypeError)
    await expect(rfc.call(erp, 'X', {}, { timeout: 0 })).rejects.toThrow(RangeError)
    const tcp = parseDestination({ Name: 'DB', Type: 'TCP', Address: 'db:1' })
    await expect(rfc.call(tcp, 'X', {})).rejects.toMatchObject({ code: 'DESTINATION_INVALID' })
  })
})

describe('rfc.call — node-rfc driver', () => {
  it('explains both options when node-rfc is not installed (RFC_DRIVER_MISSING)', async () => {
    const d = parseDestination({
      Name: 'ERP_RFC',
      Type: 'RFC',
      'jco.destination.proxy_type': 'Internet',
      'jco.client.ashost': 'erp.example.com',
      'jco.client.sysnr': '00',
      'jco.client.client': '100',
      'jco.client.user': 'U',
      'jco.client.passwd': PASSWORD,
    })
    const err = (await rfc.call(d, 'STFC_CONNECTION', { REQUTEXT: 'x' }).catch((e: unknown) => e)) as RfcError
    expect(err).toBeInstanceOf(RfcError)
    expect(err.code).toBe('RFC_DRIVER_MISSING')
    expect(err.message).toMatch(/npm install node-rfc/)
    expect(err.message).toMatch(/SOAP-RFC/)
    expect(err.message).not.toContain(PASSWORD)
  })
})
