import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseDestination } from '../../lib/destination/parse'
import {
  configureDestinations,
  getDestination,
  registerDestination,
  resolveDestination,
} from '../../lib/destination/resolve'
import { registryClear } from '../../lib/destination/sources/registry'
import type { HttpDestination } from '../../lib/destination/types'
import { userJwt } from '../fixtures/jwt'
import { saveEnv } from '../fixtures/env'

let dir: string
const env = saveEnv('destinations', 'VCAP_SERVICES', 'CAP_CONNECTIVITY_DESTINATIONS')
const urlOf = (d: unknown) => (d as HttpDestination).url

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dest-resolve-'))
  env.clear()
  configureDestinations({ root: dir })
  registryClear()
})
afterEach(() => {
  env.restore()
  registryClear()
  configureDestinations({})
  rmSync(dir, { recursive: true, force: true })
})

describe('resolution order: registry → file → env', () => {
  it('takes each name from the first source that has it', async () => {
    writeFileSync(
      join(dir, 'destinations.json'),
      JSON.stringify([
        { Name: 'ALL', URL: 'https://file' },
        { Name: 'FILE_ENV', URL: 'https://file' },
      ]),
    )
    process.env.destinations = JSON.stringify([
      { name: 'ALL', url: 'https://env' },
      { name: 'FILE_ENV', url: 'https://env' },
      { Name: 'ENV_ONLY', URL: 'https://env', Type: 'HTTP', Authentication: 'NoAuthentication' },
    ])
    registerDestination({ Name: 'ALL', URL: 'https://registry' })
    expect(urlOf(await getDestination('ALL'))).toBe('https://registry')
    expect(urlOf(await getDestination('FILE_ENV'))).toBe('https://file')
    expect(await getDestination('ENV_ONLY')).toMatchObject({ url: 'https://env', source: 'env' })
  })

  it('env var: SDK-style and BTP-style keys, invalid JSON and duplicates are errors', async () => {
    process.env.destinations = JSON.stringify([
      {
        name: 'SDK',
        url: 'https://sdk',
        username: 'u',
        password: 'p',
        proxyType: 'OnPremise',
        cloudConnectorLocationId: 'L',
      },
      { Name: 'BTP', URL: 'https://btp', User: 'u', Password: 'p', Authentication: 'BasicAuthentication' },
    ])
    expect(await getDestination('SDK')).toMatchObject({
      authentication: 'BasicAuthentication',
      proxyType: 'OnPremise',
      locationId: 'L',
      credentials: { user: 'u' },
    })
    expect(await getDestination('BTP')).toMatchObject({ authentication: 'BasicAuthentication' })
    process.env.destinations = '[{"name": "A", "url": "https://a"'
    await expect(getDestination('A')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('line 1, column'),
    })
    process.env.destinations = JSON.stringify([
      { name: 'A', url: 'https://a' },
      { name: 'A', url: 'https://b' },
    ])
    await expect(getDestination('A')).rejects.toThrow(/entries #1 and #2 are both named "A"/)
    process.env.destinations = JSON.stringify({ name: 'A' })
    await expect(getDestination('A')).rejects.toThrow(/must be a JSON array/)
  })

  it('registry entries may be tenant-specific; the tenant comes from the option or the JWT', async () => {
    registerDestination({ Name: 'T', URL: 'https://global' })
    registerDestination({ Name: 'T', URL: 'https://tenant-a' }, { tenant: 'zone-a' })
    registerDestination({ Name: 'ONLY_B', URL: 'https://b' }, { tenant: 'zone-b' })
    expect(urlOf(await getDestination('T'))).toBe('https://global')
    expect(urlOf(await getDestination('T', { tenant: 'zone-a' }))).toBe('https://tenant-a')
    expect(urlOf(await getDestination('T', { jwt: userJwt('u', 'zone-a', 'a') }))).toBe('https://tenant-a')
    expect(urlOf(await getDestination('T', { tenant: 'zone-b' }))).toBe('https://global')
    await expect(getDestination('ONLY_B', { tenant: 'zone-a' })).rejects.toMatchObject({
      code: 'DESTINATION_NOT_FOUND',
    })
    expect((await getDestination('ONLY_B', { tenant: 'zone-b' })).name).toBe('ONLY_B')
  })

  it('registers a parsed Destination object as registry entry', async () => {
    registerDestination(parseDestination({ Name: 'OBJ', URL: 'https://obj' }))
    expect(await getDestination('OBJ')).toMatchObject({ source: 'registry', url: 'https://obj' })
    expect(() => registerDestination({ Name: 'BAD', URL: 'nope' })).toThrow(
      expect.objectContaining({ code: 'DESTINATION_INVALID' }),
    )
  })

  it('a principal-propagation destination from a file resolves without a JWT', async () => {
    writeFileSync(
      join(dir, 'destinations.json'),
      JSON.stringify({
        destinations: [
          {
            Name: 'S4',
            Type: 'HTTP',
            URL: 'http://s4.virtual:443',
            ProxyType: 'OnPremise',
            Authentication: 'PrincipalPropagation',
          },
        ],
      }),
    )
    expect(await getDestination('S4')).toMatchObject({
      authentication: 'PrincipalPropagation',
      source: 'file',
    })
  })

  it('the not-found error lists every source searched', async () => {
    const err = (await getDestination('NOPE').catch((e: unknown) => e)) as Error & {
      details: Record<string, string>
    }
    expect(err).toMatchObject({ code: 'DESTINATION_NOT_FOUND', details: { destination: 'NOPE' } })
    expect(err.message).toBe(
      `Destination "NOPE" not found. Searched: registry, file ${join(dir, 'destinations.json')} (absent), env "destinations" (unset), destination service (no "destination" binding). Check the name (case-sensitive), the destinations file, the "destinations" env var or the Destination service of the tenant.`,
    )
  })

  it('resolveDestination returns a Destination object as is and validates arguments', async () => {
    const d = parseDestination({ Name: 'X', URL: 'https://x' })
    expect(await resolveDestination(d)).toBe(d)
    registerDestination({ Name: 'Y', URL: 'https://y' })
    expect((await resolveDestination('Y')).name).toBe('Y')
    await expect(resolveDestination(42 as unknown as string)).rejects.toThrow(TypeError)
    await expect(getDestination('')).rejects.toThrow(TypeError)
    await expect(getDestination('Y', { useCache: 'no' as unknown as boolean })).rejects.toThrow(/useCache/)
    await expect(getDestination('Y', { jwt: 'garbage' })).rejects.toMatchObject({ code: 'TOKEN_INVALID' })
  })
})
