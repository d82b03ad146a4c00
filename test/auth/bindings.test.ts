import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { findServiceBinding } from '../../lib/auth/bindings'

const saved = { vcap: process.env.VCAP_SERVICES, root: process.env.SERVICE_BINDING_ROOT, cwd: process.cwd() }
let dir: string

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bindings-'))
  delete process.env.VCAP_SERVICES
  delete process.env.SERVICE_BINDING_ROOT
})
afterEach(() => {
  process.chdir(saved.cwd)
  if (saved.vcap === undefined) delete process.env.VCAP_SERVICES
  else process.env.VCAP_SERVICES = saved.vcap
  if (saved.root === undefined) delete process.env.SERVICE_BINDING_ROOT
  else process.env.SERVICE_BINDING_ROOT = saved.root
  rmSync(dir, { recursive: true, force: true })
})

describe('findServiceBinding', () => {
  it('reads VCAP_SERVICES and re-evaluates when it changes', () => {
    process.env.VCAP_SERVICES = JSON.stringify({
      destination: [
        {
          label: 'destination',
          name: 'my-dest',
          plan: 'lite',
          tags: ['destination', 'conn'],
          credentials: { uri: 'http://a' },
        },
      ],
      'user-provided': [
        {
          label: 'user-provided',
          name: 'ups',
          tags: ['connectivity'],
          credentials: { onpremise_proxy_host: 'p' },
        },
      ],
    })
    expect(findServiceBinding('destination')).toMatchObject({
      name: 'my-dest',
      plan: 'lite',
      credentials: { uri: 'http://a' },
    })
    expect(findServiceBinding('connectivity')?.name).toBe('ups')
    expect(findServiceBinding('xsuaa')).toBeUndefined()
    process.env.VCAP_SERVICES = JSON.stringify({ xsuaa: [{ name: 'uaa', credentials: { url: 'http://u' } }] })
    expect(findServiceBinding('destination')).toBeUndefined()
    expect(findServiceBinding('xsuaa')).toMatchObject({ label: 'xsuaa', name: 'uaa' })
  })

  it('reports invalid VCAP_SERVICES JSON as CONFIG_INVALID', () => {
    process.env.VCAP_SERVICES = '{ nope'
    expect(() => findServiceBinding('destination')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    )
  })

  it('reads SERVICE_BINDING_ROOT directories (with and without .metadata)', () => {
    const b1 = join(dir, 'dest')
    mkdirSync(b1)
    writeFileSync(join(b1, 'type'), 'destination')
    writeFileSync(join(b1, 'instance_name'), 'dest-instance')
    writeFileSync(join(b1, 'tags'), '["destination"]')
    writeFileSync(join(b1, 'clientid'), 'cid\n')
    writeFileSync(join(b1, 'uri'), 'http://dest.localhost')
    const b2 = join(dir, 'uaa')
    mkdirSync(b2)
    writeFileSync(join(b2, 'label'), 'xsuaa')
    writeFileSync(join(b2, 'plan'), 'application')
    writeFileSync(join(b2, 'url'), 'http://uaa.localhost')
    writeFileSync(join(b2, 'nested'), '{"a":1}')
    writeFileSync(join(b2, 'ignored'), 'x')
    writeFileSync(
      join(b2, '.metadata'),
      JSON.stringify({
        credentialProperties: [
          { name: 'url', format: 'text' },
          { name: 'nested', format: 'json' },
        ],
      }),
    )
    process.env.SERVICE_BINDING_ROOT = dir
    expect(findServiceBinding('destination')).toMatchObject({
      label: 'destination',
      name: 'dest-instance',
      tags: ['destination'],
      credentials: { clientid: 'cid', uri: 'http://dest.localhost' },
    })
    const uaa = findServiceBinding('xsuaa')
    expect(uaa).toMatchObject({
      plan: 'application',
      credentials: { url: 'http://uaa.localhost', nested: { a: 1 } },
    })
    expect(uaa?.credentials.ignored).toBeUndefined()
  })

  it('falls back to default-env.json in the working directory', () => {
    writeFileSync(
      join(dir, 'default-env.json'),
      JSON.stringify({ VCAP_SERVICES: { destination: [{ name: 'local', credentials: {} }] } }),
    )
    process.chdir(dir)
    expect(findServiceBinding('destination')?.name).toBe('local')
  })
})
