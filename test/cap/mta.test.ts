import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const root = path.resolve(__dirname, '..', '..')

interface Requires {
  name: string
  properties?: Record<string, string>
}
interface Module {
  name: string
  type: string
  path: string
  parameters?: Record<string, unknown>
  requires?: Requires[]
  provides?: { name: string; properties?: Record<string, string> }[]
}
interface Resource {
  name: string
  type: string
  parameters: { service: string; 'service-plan': string; path?: string; config?: Record<string, unknown> }
}
interface Mta {
  _schema_version?: string
  ID: string
  version: string
  modules: Module[]
  resources: Resource[]
}

const mta = parse(readFileSync(path.join(root, 'mta.yaml'), 'utf8')) as Mta & Record<string, unknown>
const byName = <T extends { name: string }>(list: T[], name: string) => list.find((x) => x.name === name)

describe('mta.yaml', () => {
  it('has the schema header and a semver version', () => {
    expect(mta['_schema-version']).toMatch(/^3\./)
    expect(mta.ID).toMatch(/^[a-z0-9-]+$/)
    expect(mta.version).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it('declares the CAP app and the tunnel server as nodejs modules', () => {
    const srv = byName(mta.modules, 'sales-srv')
    const tunnel = byName(mta.modules, 'tunnel-server')
    expect(srv?.type).toBe('nodejs')
    expect(tunnel?.type).toBe('nodejs')
    // The CAP module is what `cds build --production` produces from sample-app.
    expect(srv?.path).toBe('sample-app/gen/srv')
    expect(existsSync(path.join(root, 'sample-app', 'package.json'))).toBe(true)
    expect(existsSync(path.join(root, 'sample-app', 'srv'))).toBe(true)
    // The tunnel server runs our CLI with a route of its own.
    expect(existsSync(path.join(root, tunnel?.path ?? 'missing', 'package.json'))).toBe(true)
    expect(String(tunnel?.parameters?.command)).toBe('node start.js')
    expect(existsSync(path.join(root, tunnel?.path ?? 'missing', 'start.js'))).toBe(true)
    expect(Array.isArray(tunnel?.parameters?.routes)).toBe(true)
  })

  it('starts the tunnel server with XSUAA verification from the binding', () => {
    const { serverArgs } = require('../../sample-app/tunnel-server/start.js')
    const vcap = {
      xsuaa: [{ label: 'xsuaa', credentials: { url: 'https://sub.authentication.eu10.hana.ondemand.com' } }],
    }
    const args: string[] = serverArgs({ VCAP_SERVICES: JSON.stringify(vcap), PORT: '8080' })
    expect(args.slice(0, 2)).toEqual(['tunnel', 'server'])
    const flag = (name: string) => args[args.indexOf(name) + 1]
    expect(flag('--jwks-url')).toBe('https://sub.authentication.eu10.hana.ondemand.com/token_keys')
    expect(flag('--issuer')).toBe('https://sub.authentication.eu10.hana.ondemand.com/oauth/token')
    expect(flag('--scope')).toBe('TunnelAgent')
    expect(flag('--port')).toBe('8080')
    expect(() => serverArgs({})).toThrow(/xsuaa binding/)
    // Every flag exists in the CLI.
    const help = execFileSync(
      process.execPath,
      [path.join(root, 'bin', 'cap-connectivity.js'), 'tunnel', '--help'],
      { encoding: 'utf8' },
    )
    for (const f of args.filter((a) => a.startsWith('--'))) expect(help, f).toContain(f)
  })

  it('binds the CAP app to xsuaa, destination and connectivity', () => {
    const srv = byName(mta.modules, 'sales-srv')
    const services = (srv?.requires ?? [])
      .map((r) => byName(mta.resources, r.name)?.parameters.service)
      .filter(Boolean)
      .sort()
    expect(services).toEqual(['connectivity', 'destination', 'xsuaa'])
    const tunnel = byName(mta.modules, 'tunnel-server')
    expect(tunnel?.requires?.map((r) => byName(mta.resources, r.name)?.parameters.service)).toContain('xsuaa')
  })

  it('uses the documented service plans', () => {
    const plan = (service: string) =>
      mta.resources.find((r) => r.parameters.service === service)?.parameters['service-plan']
    expect(plan('xsuaa')).toBe('application')
    expect(plan('destination')).toBe('lite')
    expect(plan('connectivity')).toBe('lite')
    for (const r of mta.resources) expect(r.type).toBe('org.cloudfoundry.managed-service')
  })

  it('resolves every requires entry to a resource or a provided dependency', () => {
    const provided = new Set(mta.modules.flatMap((m) => (m.provides ?? []).map((p) => p.name)))
    const resources = new Set(mta.resources.map((r) => r.name))
    for (const m of mta.modules) {
      for (const r of m.requires ?? []) {
        expect(resources.has(r.name) || provided.has(r.name), `${m.name} requires ${r.name}`).toBe(true)
      }
    }
    // Every resource is used by some module.
    const used = new Set(mta.modules.flatMap((m) => (m.requires ?? []).map((r) => r.name)))
    for (const r of resources) expect(used.has(r), `resource ${r} is used`).toBe(true)
  })

  it('points xsuaa at xs-security.json with the scopes the app and the tunnel use', () => {
    const xsuaa = mta.resources.find((r) => r.parameters.service === 'xsuaa')
    const file = path.join(root, xsuaa?.parameters.path ?? 'missing')
    expect(existsSync(file)).toBe(true)
    const sec = JSON.parse(readFileSync(file, 'utf8')) as {
      scopes: { name: string }[]
      'role-templates': { 'scope-references': string[] }[]
      authorities: string[]
    }
    const scopes = sec.scopes.map((s) => s.name)
    expect(scopes).toEqual(expect.arrayContaining(['$XSAPPNAME.SalesViewer', '$XSAPPNAME.TunnelAgent']))
    for (const t of sec['role-templates'])
      for (const ref of t['scope-references']) expect(scopes).toContain(ref)
    expect(sec.authorities).toContain('$XSAPPNAME.TunnelAgent')
    // The CAP service requires the scope the role template grants.
    const cds = readFileSync(path.join(root, 'sample-app', 'srv', 'sales-service.cds'), 'utf8')
    expect(cds).toContain("@requires: 'SalesViewer'")
  })

  it('runs the deploy preparation script that exists', () => {
    const before =
      (mta['build-parameters'] as { 'before-all': { commands: string[] }[] })['before-all'][0]?.commands ?? []
    expect(before.some((c) => c.includes('cds build --production'))).toBe(true)
    const prep = before.find((c) => c.startsWith('node '))
    expect(prep && existsSync(path.join(root, prep.split(' ')[1] ?? ''))).toBe(true)
  })
})
