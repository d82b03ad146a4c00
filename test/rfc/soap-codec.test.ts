import { XMLParser } from 'fast-xml-parser'
import { describe, expect, it } from 'vitest'
import { RfcError } from '../../lib/rfc/rfc-error'
import { buildRfcEnvelope, decodeAbapName, encodeAbapName } from '../../lib/rfc/soap-envelope'
import { parseRfcResponse } from '../../lib/rfc/soap-response'

const NS = 'urn:sap-com:document:sap:rfc:functions'
const env = (inner: string) =>
  `<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"><soap-env:Header/><soap-env:Body>${inner}</soap-env:Body></soap-env:Envelope>`
const resp = (fm: string, inner: string) =>
  env(`<n0:${fm}Response xmlns:n0="${NS}">${inner}</n0:${fm}Response>`)

describe('SOAP-RFC envelope', () => {
  it('puts the function module in the RFC namespace inside a SOAP 1.1 envelope', () => {
    const xml = buildRfcEnvelope('STFC_CONNECTION', { REQUTEXT: 'hello' })
    expect(xml).toContain('xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"')
    expect(xml).toContain(
      `<urn:STFC_CONNECTION xmlns:urn="${NS}"><REQUTEXT>hello</REQUTEXT></urn:STFC_CONNECTION>`,
    )
  })

  it('serialises structures, tables (item rows), numbers, booleans and bytes; omits null', () => {
    const xml = buildRfcEnvelope('Z_TEST', {
      IS_HEAD: { VBELN: '0000004711', NETWR: 12.5, FLAG: true, OFF: false },
      IT_ROWS: [{ TEXT: 'a' }, { TEXT: 'b' }],
      IT_LINES: ['x', 'y'],
      IV_BIG: 12345678901234567890n,
      IV_RAW: Buffer.from([0, 255]),
      IV_SKIP: null,
      IV_EMPTY: [],
    })
    expect(xml).toContain(
      '<IS_HEAD><VBELN>0000004711</VBELN><NETWR>12.5</NETWR><FLAG>X</FLAG><OFF></OFF></IS_HEAD>',
    )
    expect(xml).toContain('<IT_ROWS><item><TEXT>a</TEXT></item><item><TEXT>b</TEXT></item></IT_ROWS>')
    expect(xml).toContain('<IT_LINES><item>x</item><item>y</item></IT_LINES>')
    expect(xml).toContain('<IV_BIG>12345678901234567890</IV_BIG>')
    expect(xml).toContain('<IV_RAW>AP8=</IV_RAW>')
    expect(xml).toContain('<IV_EMPTY></IV_EMPTY>')
    expect(xml).not.toContain('IV_SKIP')
  })

  it('escapes every value so injected markup stays text', () => {
    const evil = `</REQUTEXT><QUERY_TABLE>USR02</QUERY_TABLE><X a="1">&amp;'"`
    const xml = buildRfcEnvelope('STFC_CONNECTION', { REQUTEXT: evil })
    const doc = new XMLParser({ removeNSPrefix: true, parseTagValue: false, trimValues: false }).parse(xml)
    expect(doc.Envelope.Body.STFC_CONNECTION).toEqual({ REQUTEXT: evil })
  })

  it('maps the ABAP namespace slash to _- and back', () => {
    expect(encodeAbapName('/BIC/ZFUNC', 'x')).toBe('_-BIC_-ZFUNC')
    expect(decodeAbapName('_-BIC_-ZFUNC')).toBe('/BIC/ZFUNC')
    expect(buildRfcEnvelope('/SAPAPO/FOO', { '/BIC/F': 'v' })).toContain('<urn:_-SAPAPO_-FOO xmlns:urn')
  })

  it('rejects invalid names, control characters and non-finite numbers with TypeError', () => {
    expect(() => buildRfcEnvelope('STFC CONNECTION', {})).toThrow(TypeError)
    expect(() => buildRfcEnvelope('X', { 'A<B': 'v' })).toThrow(/not a valid ABAP name/)
    expect(() => buildRfcEnvelope('X', { A: 'a\u0000b' })).toThrow(/control character/)
    expect(() => buildRfcEnvelope('X', { A: Number.NaN })).toThrow(TypeError)
    expect(() => buildRfcEnvelope('X', { T: [null as unknown as string] })).toThrow(/T\[0\] is empty/)
  })
})

describe('SOAP-RFC response parser', () => {
  it('keeps values as strings exactly as sent (leading zeros, inner and outer blanks, entities)', () => {
    const r = parseRfcResponse(
      resp('X', '<A>0000004711</A><B>  a  b </B><C>1.50</C><D>M&amp;S &lt;x&gt; &#228;&#x41;&#13;</D>'),
      'X',
    )
    expect(r).toEqual({ A: '0000004711', B: '  a  b ', C: '1.50', D: 'M&S <x> äA\r' })
  })

  it('reads structures as objects, item rows as arrays (one row stays an array), empty elements as ""', () => {
    const r = parseRfcResponse(
      resp(
        'BAPI_X',
        `<RETURN>\n  <TYPE>I</TYPE>\n  <MESSAGE/>\n</RETURN><ONE><item><SD_DOC>0000004711</SD_DOC></item></ONE>` +
          '<LINES><item>a</item><item></item></LINES><EMPTY/><EMPTY2></EMPTY2><_-BIC_-X>v</_-BIC_-X>',
      ),
      'BAPI_X',
    )
    expect(r).toEqual({
      RETURN: { TYPE: 'I', MESSAGE: '' },
      ONE: [{ SD_DOC: '0000004711' }],
      LINES: ['a', ''],
      EMPTY: '',
      EMPTY2: '',
      '/BIC/X': 'v',
    })
  })

  it('returns [] for an empty table the caller named', () => {
    const r = parseRfcResponse(resp('X', '<DATA/><RETURN/>'), 'X', { tables: ['data'] })
    expect(r).toEqual({ DATA: [], RETURN: '' })
  })

  it('maps a SOAP fault with an ABAP exception to RFC_ABAP_EXCEPTION with key, text and message', () => {
    const fault = env(
      '<soap-env:Fault><faultcode>soap-env:Client</faultcode><faultstring xml:lang="en">TABLE_NOT_AVAILABLE</faultstring>' +
        `<detail><n0:RFC_READ_TABLE.Exception xmlns:n0="${NS}"><Name>TABLE_NOT_AVAILABLE</Name><Text>Table ZX not available</Text>` +
        '<Message><ID>SDA</ID><Number>001</Number></Message></n0:RFC_READ_TABLE.Exception></detail></soap-env:Fault>',
    )
    let err: unknown
    try {
      parseRfcResponse(fault, 'RFC_READ_TABLE')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(RfcError)
    expect(err).toMatchObject({
      code: 'RFC_ABAP_EXCEPTION',
      key: 'TABLE_NOT_AVAILABLE',
      message: 'Table ZX not available',
      abapMessage: { id: 'SDA', number: '001' },
    })
  })

  it('maps a fault without exception detail to RFC_FAILED with faultcode and faultstring', () => {
    const fault = env(
      '<soap-env:Fault><faultcode>soap-env:Server</faultcode><faultstring>Function module Z not found</faultstring></soap-env:Fault>',
    )
    expect(() => parseRfcResponse(fault, 'Z', { destinationName: 'ERP' })).toThrow(
      expect.objectContaining({
        code: 'RFC_FAILED',
        message: expect.stringMatching(/Z on destination "ERP".*not found/),
      }),
    )
  })

  it('rejects DOCTYPEs, non-XML and a response for another function', () => {
    expect(() => parseRfcResponse('<!DOCTYPE x [<!ENTITY a "b">]>' + resp('X', '<A>&a;</A>'), 'X')).toThrow(
      /DOCTYPE/,
    )
    expect(() => parseRfcResponse('<html><body>Logon failed</body></html>', 'X')).toThrow(/Envelope/)
    expect(() => parseRfcResponse(resp('Y', '<A>1</A>'), 'X')).toThrow(/XResponse/)
  })
})
