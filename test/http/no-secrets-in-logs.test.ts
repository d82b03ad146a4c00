/**
 * With every cap-connectivity debug log on, a full on-premise request (connectivity token, principal
 * propagation, basic credentials, CSRF) and a failing token fetch never print a secret. Runs the
 * built package in a child process because NODE_DEBUG is read when Node starts.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(__dirname, '..', '..')
const built = existsSync(join(root, 'dist', 'http', 'request.js'))
if (!built) console.warn('dist/ is missing: run "npm run build" to check the debug logs for secrets')

const SCRIPT = `
const http = require('node:http')
const { request } = require(${JSON.stringify(join(root, 'dist', 'http', 'request.js'))})
const { parseDestination } = require(${JSON.stringify(join(root, 'dist', 'destination', 'parse.js'))})
const { closeAllPools } = require(${JSON.stringify(join(root, 'dist', 'transport', 'pools.js'))})
const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
const jwt = enc({ alg: 'none' }) + '.' + enc({ zid: 'z', user_name: 'alice', ext_attr: { zdn: 'sub' }, exp: Math.floor(Date.now() / 1000) + 600, secret_claim: 'JWT-SENTINEL' }) + '.sig'
const uaa = http.createServer((req, res) => {
  let body = ''
  req.on('data', (c) => (body += c))
  req.on('end', () => {
    if (body.includes('WRONG')) { res.writeHead(401, { 'content-type': 'application/json' }); return res.end('{"error":"invalid_client"}') }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ access_token: 'TOKEN-SENTINEL', token_type: 'bearer', expires_in: 3600 }))
  })
})
const proxy = http.createServer((req, res) => {
  if (req.headers['x-csrf-token'] === 'Fetch') { res.writeHead(200, { 'x-csrf-token': 'CSRF-SENTINEL', 'set-cookie': 'S=COOKIE-SENTINEL' }); return res.end() }
  req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok') })
})
uaa.listen(0, '127.0.0.1', () => proxy.listen(0, '127.0.0.1', async () => {
  process.env.VCAP_SERVICES = JSON.stringify({ connectivity: [{ label: 'connectivity', name: 'c', credentials: {
    onpremise_proxy_host: '127.0.0.1', onpremise_proxy_http_port: String(proxy.address().port),
    clientid: 'c', clientsecret: 'CLIENT-SECRET-SENTINEL', token_service_url: 'http://127.0.0.1:' + uaa.address().port } }] })
  const pp = parseDestination({ Name: 'PP', Type: 'HTTP', URL: 'http://v:1', ProxyType: 'OnPremise', Authentication: 'PrincipalPropagation' })
  await (await request(pp, { method: 'POST', path: '/x', body: 'b', jwt })).text()
  const basic = parseDestination({ Name: 'B', Type: 'HTTP', URL: 'http://127.0.0.1:' + proxy.address().port, User: 'u', Password: 'PASSWORD-SENTINEL' })
  await (await request(basic, { path: '/y' })).text()
  const bad = parseDestination({ Name: 'O', Type: 'HTTP', URL: 'http://127.0.0.1:' + proxy.address().port, Authentication: 'OAuth2ClientCredentials',
    tokenServiceURL: 'http://127.0.0.1:' + uaa.address().port + '/oauth/token', clientId: 'c', clientSecret: 'WRONG-SECRET-SENTINEL' })
  await request(bad, { path: '/z' }).catch((e) => console.error('error:', e.code, e.message, JSON.stringify(e.details)))
  await closeAllPools(); uaa.close(); proxy.close()
}))
`

describe.skipIf(!built)('debug logs', () => {
  it('never contain tokens, passwords, client secrets, CSRF tokens or cookies', () => {
    const r = spawnSync(process.execPath, ['-e', SCRIPT], {
      env: { ...process.env, NODE_DEBUG: 'cap-connectivity:*' },
      encoding: 'utf8',
      timeout: 20_000,
    })
    expect(r.status).toBe(0)
    const out = `${r.stdout}\n${r.stderr}`
    expect(out).toContain('CAP-CONNECTIVITY') // debug output was really on
    expect(out).toContain('error: TOKEN_FETCH_FAILED')
    expect(out).not.toMatch(/SENTINEL/)
  })
})
