/**
 * Sentinel-secret test: every secret a destination, binding or token request can hold carries a
 * unique marker, then every failure path is triggered; no error message, JSON form, inspected
 * error (incl. cause) or CLI output may contain a marker.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { findServiceBinding } from '../../lib/auth/bindings'
import { decodeJwt } from '../../lib/auth/jwt'
import { fetchToken } from '../../lib/auth/token-client'
import { main } from '../../lib/cli/main'
import { parseDestination } from '../../lib/destination/parse'
import { configureDestinations, getDestination } from '../../lib/destination/resolve'
import { readDestinationsDocument } from '../../lib/destination/sources/file'
import { captureOutput } from '../fixtures/cli'
import { userJwt } from '../fixtures/jwt'
import { CLIENT_SECRET, PROVIDER, type ServiceEnv, startServiceEnv } from './service-env'

const S = 'SENTINEL'
const secrets = {
  Password: `${S}-password`,
  clientSecret: `${S}-client-secret`,
  tokenServicePassword: `${S}-token-service-password`,
  KeyStorePassword: `${S}-keystore-password`,
  'jco.client.passwd': `${S}-rfc-passwd`,
  'ldap.password': `${S}-ldap-password`,
  'mail.password': `${S}-mail-password`,
}

function assertClean(err: unknown): void {
  expect(err).toBeInstanceOf(Error)
  const all = [String(err), (err as Error).message, JSON.stringify(err), inspect(err, { depth: 10 })].join(
    '\n',
  )
  expect(all).not.toContain(S)
  expect(all).not.toContain(CLIENT_SECRET)
}

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected an error')
}

let env: ServiceEnv
let dir: string
beforeAll(async () => {
  env = await startServiceEnv({
    [PROVIDER.zid]: {
      subaccount: [
        {
          config: {
            Name: 'SVC',
            URL: 'https://x.org',
            Authentication: 'OAuth2ClientCredentials',
            tokenServiceURL: 'https://x.org/t',
            clientId: 'c',
            clientSecret: secrets.clientSecret,
          },
        },
      ],
    },
  })
  dir = mkdtempSync(join(tmpdir(), 'dest-secret-'))
})
afterAll(async () => {
  await env.close()
  rmSync(dir, { recursive: true, force: true })
})
beforeEach(() => env.reset())

describe('no secret in any error message or CLI output', () => {
  it('validation errors of every destination type', () => {
    const cases: Record<string, unknown>[] = [
      { Name: 'H', URL: `https://u:${S}@`, Password: secrets.Password },
      {
        Name: 'H',
        URL: 'https://x',
        Authentication: 'OAuth2ClientCredentials',
        clientSecret: secrets.clientSecret,
        tokenServicePassword: secrets.tokenServicePassword,
      },
      { Name: 'H', URL: 'https://x', TrustAll: secrets.KeyStorePassword },
      { Name: 'H', URL: 'https://x', Authentication: secrets.Password },
      {
        Name: 'R',
        Type: 'RFC',
        'jco.client.ashost': 'h',
        'jco.client.sysnr': 'xx',
        'jco.client.passwd': secrets['jco.client.passwd'],
      },
      { Name: 'L', Type: 'LDAP', 'ldap.url': `ldap://x:${S}`, 'ldap.password': secrets['ldap.password'] },
      { Name: 'M', Type: 'MAIL', 'mail.password': secrets['mail.password'] },
      { Name: 'T', Type: 'TCP', Address: 'h:1', 'tcp.timeout': S },
      { Name: 'N', URL: 'https://x', Password: { nested: S } },
    ]
    for (const c of cases) assertClean(thrown(() => parseDestination(c)))
  })

  it('a destination printed or serialised shows masked secrets, while the fields keep their values', async () => {
    const all = [
      parseDestination({
        Name: 'H',
        URL: `https://u:${S}-userinfo@h.org`,
        Authentication: 'OAuth2Password',
        tokenServiceURL: 'https://t',
        clientId: 'c',
        clientSecret: secrets.clientSecret,
        User: 'u',
        Password: secrets.Password,
        tokenServicePassword: secrets.tokenServicePassword,
        KeyStorePassword: secrets.KeyStorePassword,
        'URL.headers.Authorization': `Basic ${S}`,
      }),
      parseDestination({
        Name: 'R',
        Type: 'RFC',
        'jco.client.ashost': 'h',
        'jco.client.sysnr': '00',
        'jco.client.client': '100',
        'jco.client.user': 'U',
        'jco.client.passwd': secrets['jco.client.passwd'],
      }),
      parseDestination({
        Name: 'L',
        Type: 'LDAP',
        'ldap.url': 'ldap://l:389',
        'ldap.authentication': 'BasicAuthentication',
        'ldap.user': 'u',
        'ldap.password': secrets['ldap.password'],
      }),
      parseDestination({
        Name: 'M',
        Type: 'MAIL',
        Authentication: 'BasicAuthentication',
        'mail.smtp.host': 'm',
        'mail.user': 'u',
        'mail.password': secrets['mail.password'],
      }),
      await getDestination('SVC'),
    ]
    for (const d of all) {
      const printed = `${JSON.stringify(d)}\n${inspect(d, { depth: 10 })}\n${JSON.stringify({ wrapped: [d] })}`
      expect(printed).not.toContain(S)
      expect(printed).toContain('********')
      expect(printed).toContain(`"name":"${d.name}"`)
    }
    expect(all[0]?.type === 'HTTP' && all[0].credentials.password).toBe(secrets.Password)
    expect(all[4]?.authTokens?.[0]?.value).toMatch(/^cc-SVC-/)
  })

  it('file syntax errors, bad entries, duplicates', async () => {
    const files = [
      `[{"Name":"A","Password":"${secrets.Password}" "URL":"https://a"}]`,
      `[{"Name":"A","Password":"${secrets.Password}",}]`,
      `{"destinations":[{"Name":"A","URL":"https://a","Password":"${secrets.Password}"},{"Name":"A","URL":"https://a","Password":"${secrets.Password}"}]}`,
      `[{"Name":"A","URL":"bad","Password":"${secrets.Password}"}]`,
      `[{"Name":"A","URL":"https://a","Password":"${secrets.Password}`,
    ]
    for (const [i, text] of files.entries()) {
      const p = join(dir, `f${i}.json`)
      writeFileSync(p, text)
      assertClean(await readDestinationsDocument(p).catch((e: unknown) => e))
    }
  })

  it('env var errors', async () => {
    const saved = process.env.destinations
    try {
      process.env.destinations = `[{"name":"E","url":"https://e","password":"${secrets.Password}" x}]`
      assertClean(await getDestination('E').catch((e: unknown) => e))
      process.env.destinations = `[{"name":"E","url":"nope","password":"${secrets.Password}"}]`
      assertClean(await getDestination('E').catch((e: unknown) => e))
    } finally {
      if (saved === undefined) delete process.env.destinations
      else process.env.destinations = saved
    }
  })

  it('binding, token and JWT errors', async () => {
    const vcap = process.env.VCAP_SERVICES
    try {
      process.env.VCAP_SERVICES = `{"destination":[{"credentials":{"clientsecret":"${S}-vcap"}}] oops}`
      assertClean(thrown(() => findServiceBinding('destination')))
    } finally {
      process.env.VCAP_SERVICES = vcap
    }
    assertClean(
      thrown(() =>
        decodeJwt(`eyJhbGciOiJub25lIn0.${Buffer.from(`{"secret":"${S}"`).toString('base64url')}.x`),
      ),
    )
    for (const req of [
      { clientSecret: `${S}-wrong` },
      { clientSecret: `${S}-x`, tokenUrl: 'http://127.0.0.1:1/oauth/token' },
      { clientSecret: `${S}-x`, grantType: 'password' as const, username: 'u', password: `${S}-pw` },
      {
        clientSecret: `${S}-x`,
        grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer' as const,
        assertion: userJwt(`${S}-user`, 'nope', 'nope'),
      },
    ]) {
      const err = await fetchToken({
        tokenUrl: `${env.xsuaa.url}/oauth/token`,
        grantType: 'client_credentials',
        clientId: 'sb-clone-destination',
        ...req,
      }).catch((e: unknown) => e)
      assertClean(err)
    }
  })

  it('Destination service errors (token errors, HTTP errors, failing XSUAA)', async () => {
    env.service.tokenErrors.add('SVC')
    assertClean(await getDestination('SVC').catch((e: unknown) => e))
    env.service.tokenErrors.clear()
    env.service.failures.set('SVC', { status: 503, message: 'busy' })
    assertClean(await getDestination('SVC').catch((e: unknown) => e))
    env.xsuaa.failWith = { status: 401, error: 'invalid_client', description: 'Bad credentials' }
    assertClean(await getDestination('SVC', { useCache: false }).catch((e: unknown) => e))
  })

  it('CLI output for list, check and failures', async () => {
    configureDestinations({ root: dir })
    const file = join(dir, 'cli.json')
    writeFileSync(
      file,
      JSON.stringify([
        {
          Name: 'H',
          URL: 'https://h',
          Authentication: 'OAuth2Password',
          tokenServiceURL: 'https://t',
          clientId: 'c',
          clientSecret: secrets.clientSecret,
          User: 'u',
          Password: secrets.Password,
          tokenServicePassword: secrets.tokenServicePassword,
          KeyStorePassword: secrets.KeyStorePassword,
        },
        {
          Name: 'R',
          Type: 'RFC',
          'jco.client.ashost': 'h',
          'jco.client.sysnr': '00',
          'jco.client.client': '100',
          'jco.client.user': 'U',
          'jco.client.passwd': secrets['jco.client.passwd'],
        },
        {
          Name: 'L',
          Type: 'LDAP',
          'ldap.url': 'ldap://l:389',
          'ldap.authentication': 'BasicAuthentication',
          'ldap.user': 'u',
          'ldap.password': secrets['ldap.password'],
        },
        {
          Name: 'M',
          Type: 'MAIL',
          Authentication: 'BasicAuthentication',
          'mail.smtp.host': 'm',
          'mail.user': 'u',
          'mail.password': secrets['mail.password'],
        },
      ]),
    )
    const io = captureOutput()
    try {
      await main(['destinations', 'list', '--file', file])
      for (const n of ['H', 'R', 'L', 'M', 'SVC']) await main(['destinations', 'check', n, '--file', file])
      env.service.tokenErrors.add('SVC')
      await main(['destinations', 'check', 'SVC', '--file', file])
    } finally {
      io.restore()
    }
    const output = io.all()
    expect(output).toContain('OAuth2Password')
    expect(output).toContain('auth tokens') // SVC came from the service with a token, shown masked
    expect(output).not.toContain(S)
  })
})
