import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { configureDestinations } from '../../lib/destination/resolve'
import { runCli } from '../fixtures/cli'
import { saveEnv } from '../fixtures/env'

const SENTINELS = [
  'SENTINEL-PW-1',
  'SENTINEL-SECRET-2',
  'SENTINEL-TOKEN-3',
  'SENTINEL-KEYPW-4',
  'SENTINEL-RFC-5',
  'SENTINEL-URLPW-6',
  'SENTINEL-HDR-7',
]
let dir: string
let file: string
const env = saveEnv('destinations', 'VCAP_SERVICES', 'CAP_CONNECTIVITY_DESTINATIONS')

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dest-cli-'))
  file = join(dir, 'example.json')
  writeFileSync(
    file,
    JSON.stringify({
      destinations: [
        {
          Name: 'S4',
          Type: 'HTTP',
          URL: 'http://s4.virtual:44300',
          ProxyType: 'OnPremise',
          Authentication: 'BasicAuthentication',
          User: 'TECH',
          Password: SENTINELS[0],
          CloudConnectorLocationId: 'LOC',
          'URL.headers.Authorization': `Bearer ${SENTINELS[6]}`,
        },
        {
          Name: 'API',
          URL: `https://user:${SENTINELS[5]}@api.example.org`,
          Authentication: 'OAuth2ClientCredentials',
          tokenServiceURL: 'https://auth.example.org/oauth/token',
          clientId: 'client',
          clientSecret: SENTINELS[1],
          'tokenService.body.refresh_token': SENTINELS[2],
          KeyStoreLocation: 'k.p12',
          KeyStorePassword: SENTINELS[3],
        },
        { Name: 'PG', Type: 'TCP', Address: 'db.virtual:5432', ProxyType: 'OnPremise' },
        {
          Name: 'ERP',
          Type: 'RFC',
          'jco.client.ashost': 'erp.virtual',
          'jco.client.sysnr': '00',
          'jco.client.client': '100',
          'jco.client.user': 'RFCUSER',
          'jco.client.passwd': SENTINELS[4],
        },
      ],
    }),
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))
beforeEach(() => {
  env.clear()
  configureDestinations({ root: dir })
})
afterEach(() => {
  env.restore()
  configureDestinations({})
})

const noSecrets = (text: string) => {
  for (const s of SENTINELS) expect(text).not.toContain(s)
}

describe('cap-connectivity destinations', () => {
  it('list prints every destination with type, proxy, authentication, target and source', async () => {
    process.env.destinations = JSON.stringify([{ name: 'FROM_ENV', url: 'https://env.example.org' }])
    const { code, out, err } = await runCli('destinations', 'list', '--file', file)
    expect(code).toBe(0)
    expect(err).toBe('')
    const lines = out.trim().split('\n')
    expect(lines[0]).toMatch(/^NAME\s+TYPE\s+PROXY\s+AUTHENTICATION\s+URL\/ADDRESS\s+SOURCE$/)
    expect(lines[1]).toMatch(
      new RegExp(
        `^S4\\s+HTTP\\s+OnPremise\\s+BasicAuthentication\\s+http://s4.virtual:44300\\s+file ${file}$`,
      ),
    )
    expect(lines[2]).toMatch(
      /^API\s+HTTP\s+Internet\s+OAuth2ClientCredentials\s+https:\/\/\*{8}@api.example.org/,
    )
    expect(lines[3]).toMatch(/^PG\s+TCP\s+OnPremise\s+NoAuthentication\s+db.virtual:5432/)
    expect(lines[4]).toMatch(/^ERP\s+RFC\s+OnPremise\s+BasicAuthentication\s+erp.virtual sysnr 00 client 100/)
    expect(lines[5]).toMatch(
      /^FROM_ENV\s+HTTP\s+Internet\s+NoAuthentication\s+https:\/\/env.example.org\s+env$/,
    )
    noSecrets(out)
  })

  it('check shows one destination with masked properties', async () => {
    for (const name of ['S4', 'API', 'ERP']) {
      const { code, out } = await runCli('destinations', 'check', name, '--file', file)
      expect(code).toBe(0)
      expect(out).toContain(`name            ${name}`)
      expect(out).toContain('********')
      noSecrets(out)
    }
    const { out } = await runCli('destinations', 'check', 'S4', '--file', file)
    expect(out).toMatch(/location id\s+LOC/)
    expect(out).toContain('  User = TECH')
    expect(out).toContain('  Password = ********')
    expect(out).toContain('  URL.headers.Authorization = ********')
  })

  it('exits non-zero with "error CODE: message" when resolution fails', async () => {
    const missing = await runCli('destinations', 'check', 'NOPE', '--file', file)
    expect(missing.code).toBe(1)
    expect(missing.err).toMatch(
      /^error DESTINATION_NOT_FOUND: Destination "NOPE" not found\. Searched: registry, file /,
    )
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, `[{"Name": "X", "Password": "${SENTINELS[0]}",}]`)
    for (const argv of [
      ['destinations', 'list', '--file', bad],
      ['destinations', 'check', 'X', '--file', bad],
    ]) {
      const r = await runCli(...argv)
      expect(r.code).toBe(1)
      expect(r.err).toMatch(
        /^error DESTINATIONS_FILE_INVALID: Destinations file .*bad\.json: invalid JSON at line 1, column 44/,
      )
      noSecrets(r.err)
    }
    const invalid = join(dir, 'invalid.json')
    writeFileSync(
      invalid,
      JSON.stringify([{ Name: 'X', URL: 'https://x', Authentication: 'BasicAuthentication', User: 'u' }]),
    )
    const r = await runCli('destinations', 'list', '--file', invalid)
    expect(r.err).toMatch(
      /^error DESTINATION_INVALID: Destination "X" \(.*invalid\.json, entry #1\): property "Password" is required/,
    )
  })

  it('--help, usage errors and the top-level command list', async () => {
    const h = await runCli('destinations', '--help')
    expect(h.code).toBe(0)
    expect(h.out).toContain('Usage: cap-connectivity destinations <list|check NAME>')
    expect((await runCli('destinations')).code).toBe(2)
    expect((await runCli('destinations', 'check')).err).toContain('needs a destination NAME')
    expect((await runCli('destinations', 'frob')).err).toContain('Unknown subcommand "frob"')
    expect((await runCli('destinations', 'list', '--bogus')).err).toContain('Unknown option "--bogus"')
    expect((await runCli('--help')).out).toMatch(/destinations\s+list destinations or check one/)
  })

  it('list says so when there is nothing configured, and uses ./destinations.json by default', async () => {
    const empty = await runCli('destinations', 'list')
    expect(empty.out).toContain('No destinations')
    writeFileSync(join(dir, 'destinations.json'), JSON.stringify([{ Name: 'DEFAULT', URL: 'https://d' }]))
    const r = await runCli('destinations', 'list')
    expect(r.out).toMatch(/^DEFAULT\s+HTTP/m)
  })
})
