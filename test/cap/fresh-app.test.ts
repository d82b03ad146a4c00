/**
 * The "zero code" claim, checked the way a user meets it: pack this package, install the tarball
 * into a brand-new CAP app that only adds configuration, and call a remote service. The package
 * contents (npm pack --dry-run) are checked here too.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const { startS4Mock } = require('../../sample-app/s4-mock/launch.js')

const root = path.resolve(__dirname, '..', '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
let dir: string
let mock: { url: string; stop(): Promise<void>; requests(): Promise<{ user: string | null; url: string }[]> }

function packList(): string[] {
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
  })
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cap-connectivity-fresh-'))
  mock = await startS4Mock()
}, 60_000)

afterAll(async () => {
  await mock?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('npm pack', () => {
  it('ships dist/, cds-plugin.js, README, LICENSE and CHANGELOG', () => {
    const files = packList()
    for (const f of [
      'cds-plugin.js',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'package.json',
      'dist/cap/plugin.js',
      'dist/cap/index.js',
    ]) {
      expect(files, f).toContain(f)
    }
    expect(files.some((f) => f.startsWith('dist/') && f.endsWith('.d.ts'))).toBe(true)
    // Nothing of the sample, the tests or the sources.
    expect(files.filter((f) => /^(sample-app|test|lib|bench)\//.test(f))).toEqual([])
  })
})

describe('a fresh CAP app with the packed tarball', () => {
  it('uses the plugin with config only (destination from ./destinations.json)', () => {
    const out = execFileSync(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
      cwd: root,
      encoding: 'utf8',
    })
    const tarball = (JSON.parse(out) as { filename: string }[])[0]!.filename
    const app = path.join(dir, 'app')
    cpSync(path.join(root, 'sample-app', 'srv', 'external'), path.join(app, 'srv', 'external'), {
      recursive: true,
    })
    writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({
        name: 'fresh-cap-app',
        private: true,
        dependencies: { '@sap/cds': '^10.1.1', 'cap-connectivity': `file:../${tarball}` },
        cds: {
          requires: {
            API_SALES_ORDER_SRV: {
              kind: 'odata-v2',
              model: 'srv/external/API_SALES_ORDER_SRV',
              credentials: { destination: 'ERP', path: '/sap/opu/odata/sap/API_SALES_ORDER_SRV' },
            },
          },
        },
      }),
    )
    writeFileSync(
      path.join(app, 'destinations.json'),
      JSON.stringify([
        {
          Name: 'ERP',
          Type: 'HTTP',
          URL: mock.url,
          ProxyType: 'Internet',
          Authentication: 'BasicAuthentication',
          User: 'S4_TECH',
          Password: 'mock-password',
        },
      ]),
    )
    // The app's own "test": plain CAP code, nothing of cap-connectivity imported.
    writeFileSync(
      path.join(app, 'query.js'),
      `const cds = require('@sap/cds')
;(async () => {
  await cds.plugins
  const s4 = await cds.connect.to('API_SALES_ORDER_SRV')
  const rows = await s4.run(SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder').where({ TransactionCurrency: 'USD' }).orderBy('TotalNetAmount desc').limit(3))
  console.log(JSON.stringify({ impl: s4.constructor.name, rows }))
})().catch((e) => { console.error(e.message); process.exit(1) })
`,
    )
    // From npm's cache (filled by the repository's own install); the registry only on a cache miss.
    execFileSync(
      npm,
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
      {
        cwd: app,
        stdio: 'pipe',
        timeout: 180_000,
      },
    )
    const result = JSON.parse(
      execFileSync(process.execPath, ['query.js'], {
        cwd: app,
        encoding: 'utf8',
        env: { ...process.env, NODE_ENV: 'development' },
      })
        .trim()
        .split('\n')
        .pop()!,
    ) as { impl: string; rows: { TransactionCurrency: string; TotalNetAmount: string }[] }
    expect(result.impl).toBe('ConnectivityRemoteService')
    expect(result.rows).toHaveLength(3)
    expect(result.rows.every((r) => r.TransactionCurrency === 'USD')).toBe(true)
    const amounts = result.rows.map((r) => Number(r.TotalNetAmount))
    expect([...amounts].sort((a, b) => b - a)).toEqual(amounts)
  }, 240_000)
})
