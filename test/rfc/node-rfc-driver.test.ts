/**
 * The node-rfc driver against a stand-in `node-rfc` package with node-rfc 3's documented surface
 * (Pool({ connectionParameters, poolOptions }), acquire/release, client.call, ABAPError objects),
 * installed into a temp app directory — the NW RFC SDK itself is not redistributable.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDestination } from '../../lib/destination/parse'
import { rfc } from '../../lib/rfc/call'
import { RfcError } from '../../lib/rfc/rfc-error'

const FAKE = `
'use strict'
const log = (globalThis.__nodeRfcLog = globalThis.__nodeRfcLog || { pools: [], calls: [], released: 0 })
class Client {
  constructor(params) { this.params = params }
  async call(fm, input) {
    log.calls.push({ fm, input })
    if (this.params.passwd !== 'right') {
      throw Object.assign(new Error('Name or password is incorrect (repeat logon)'), { name: 'RfcLibError', codeString: 'RFC_LOGON_FAILURE' })
    }
    if (fm === 'STFC_CONNECTION') return { ECHOTEXT: input.REQUTEXT, RESPTEXT: 'SAP R/3 Rel. 758' }
    if (fm === 'RFC_READ_TABLE') {
      throw Object.assign(new Error('TABLE_NOT_AVAILABLE'), {
        name: 'ABAPError', codeString: 'RFC_ABAP_EXCEPTION', key: 'TABLE_NOT_AVAILABLE',
        abapMsgClass: 'SDA', abapMsgType: 'E', abapMsgNumber: '001', abapMsgV1: input.QUERY_TABLE,
      })
    }
    throw Object.assign(new Error('Function module ' + fm + ' not found'), { name: 'ABAPError', codeString: 'RFC_ABAP_EXCEPTION', key: 'FU_NOT_FOUND' })
  }
}
class Pool {
  constructor(config) { this.config = config; log.pools.push(config) }
  async acquire() { return new Client(this.config.connectionParameters) }
  async release() { log.released++ }
  async closeAll() {}
}
module.exports = { Pool, Client }
`

interface FakeLog {
  pools: { connectionParameters: Record<string, string>; poolOptions: { low: number; high: number } }[]
  calls: { fm: string }[]
  released: number
}

describe('rfc.call — node-rfc driver', () => {
  let dir: string
  let cwd: string
  beforeAll(() => {
    cwd = process.cwd()
    dir = mkdtempSync(join(tmpdir(), 'cap-conn-noderfc-'))
    mkdirSync(join(dir, 'node_modules', 'node-rfc'), { recursive: true })
    writeFileSync(join(dir, 'package.json'), '{"name":"app","private":true}')
    writeFileSync(
      join(dir, 'node_modules', 'node-rfc', 'package.json'),
      '{"name":"node-rfc","version":"3.3.1","main":"index.js"}',
    )
    writeFileSync(join(dir, 'node_modules', 'node-rfc', 'index.js'), FAKE)
    process.chdir(dir) // node-rfc is resolved from the application's directory
  })
  afterAll(async () => {
    await rfc.close()
    process.chdir(cwd)
    rmSync(dir, { recursive: true, force: true })
  })

  const dest = (passwd: string) =>
    parseDestination({
      Name: 'ERP_NATIVE',
      Type: 'RFC',
      'jco.destination.proxy_type': 'Internet',
      'jco.client.ashost': 'erp.example.com',
      'jco.client.sysnr': '00',
      'jco.client.client': '100',
      'jco.client.user': 'RFC_USER',
      'jco.client.passwd': passwd,
      'jco.destination.pool_capacity': '2',
      'jco.destination.peak_limit': '5',
    })
  const log = () => (globalThis as unknown as { __nodeRfcLog: FakeLog }).__nodeRfcLog

  it('calls through one pool per destination with the mapped parameters and pool sizes', async () => {
    const d = dest('right')
    expect(await rfc.call(d, 'STFC_CONNECTION', { REQUTEXT: 'hi' })).toEqual({
      ECHOTEXT: 'hi',
      RESPTEXT: 'SAP R/3 Rel. 758',
    })
    await rfc.call(d, 'STFC_CONNECTION', { REQUTEXT: 'again' })
    expect(log().pools).toHaveLength(1)
    expect(log().pools[0]).toMatchObject({
      connectionParameters: {
        ashost: 'erp.example.com',
        sysnr: '00',
        client: '100',
        user: 'RFC_USER',
        passwd: 'right',
      },
      poolOptions: { low: 2, high: 5 },
    })
    expect(log().released).toBe(2)
  })

  it('maps ABAPError to RFC_ABAP_EXCEPTION with key and message, other errors to RFC_FAILED', async () => {
    const err = (await rfc
      .call(dest('right'), 'RFC_READ_TABLE', { QUERY_TABLE: 'ZX' })
      .catch((e: unknown) => e)) as RfcError
    expect(err).toBeInstanceOf(RfcError)
    expect(err).toMatchObject({
      code: 'RFC_ABAP_EXCEPTION',
      key: 'TABLE_NOT_AVAILABLE',
      abapMessage: { id: 'SDA', type: 'E', number: '001', v1: 'ZX' },
    })
    const logon = (await rfc
      .call(dest('wrong-SENTINEL'), 'STFC_CONNECTION', {})
      .catch((e: unknown) => e)) as RfcError
    expect(logon).toMatchObject({
      code: 'RFC_FAILED',
      details: expect.objectContaining({ rfcCode: 'RFC_LOGON_FAILURE' }),
    })
    expect(logon.message).toContain('destination "ERP_NATIVE"')
    expect(JSON.stringify(logon)).not.toContain('wrong-SENTINEL')
    // Changed logon data gets its own pool.
    expect(log().pools).toHaveLength(2)
  })
})
