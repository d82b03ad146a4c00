// HTTP client: GET through a cached destination vs raw undici `request` and vs the SAP Cloud SDK's
// `executeHttpRequest`; POST with CSRF (our cached token) vs the SDK's default (a HEAD before
// every POST); and the cost of require() for both packages. The backend runs in its own process on
// loopback. Bounded: fixed request counts, median of rounds, exits by itself.
// Usage: npm run build && node bench/http.bench.js [--requests 2000] [--rounds 3]
'use strict'
const path = require('node:path')
const { arg, median, printMarkdownTable, requireTime, startChild } = require('./lib/common')

const REQUESTS = arg('requests', 2000)
const ROUNDS = arg('rounds', 3)
const root = path.resolve(__dirname, '..')
// A full GC before every measured batch, so one client's garbage (the SDK allocates a lot) is not
// collected on the next client's time.
require('node:v8').setFlagsFromString('--expose-gc')
const gc = require('node:vm').runInNewContext('gc')

// A small S/4-like backend: JSON for GET, SAP's CSRF protocol for POST.
const SERVER = `
const http = require('node:http')
const body = JSON.stringify({ d: { results: [{ SalesOrder: '1', NetAmount: '10.00' }] } })
const server = http.createServer((req, res) => {
  if (req.headers['x-csrf-token'] === 'Fetch') {
    res.writeHead(200, { 'x-csrf-token': 'tok', 'set-cookie': 'SAP_SESSIONID=s1; path=/' })
    return res.end()
  }
  if (req.method === 'POST') {
    req.resume()
    req.on('end', () => {
      if (req.headers['x-csrf-token'] !== 'tok') { res.writeHead(403, { 'x-csrf-token': 'Required' }); return res.end() }
      res.writeHead(201, { 'content-type': 'application/json' })
      res.end('{"ok":true}')
    })
    return
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
})
server.keepAliveTimeout = 60000
server.listen(0, '127.0.0.1', () => process.send(server.address().port))
`

async function startServer() {
  const { child, message: port } = await startChild({ code: SERVER })
  return { port, close: () => child.kill() }
}

/**
 * ms per request for each case: median over rounds of `REQUESTS` sequential calls. Cases take turns
 * within every round, so warm-up and machine noise hit all of them alike.
 */
async function measure(cases) {
  for (const fn of Object.values(cases)) for (let i = 0; i < 200; i++) await fn()
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of Object.entries(cases)) {
      gc()
      const t = process.hrtime.bigint()
      for (let i = 0; i < REQUESTS; i++) await fn()
      samples[name].push(Number(process.hrtime.bigint() - t) / 1e6 / REQUESTS)
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)]))
}

async function main() {
  const server = await startServer()
  const url = `http://127.0.0.1:${server.port}`
  const ours = require(root)
  const undici = require('undici')
  const sdk = require('@sap-cloud-sdk/http-client')
  // Keep the SDK quiet: its logger warns about destinations given as objects.
  require('@sap-cloud-sdk/util').setGlobalLogLevel('error')
  ours.registerDestination({ Name: 'BENCH', Type: 'HTTP', URL: url, Authentication: 'NoAuthentication' })
  const sdkDestination = { url }
  const path = '/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder'

  const m = await measure({
    oursGet: async () => (await ours.request('BENCH', { path })).json(),
    undiciGet: async () => (await undici.request(`${url}${path}`)).body.json(),
    sdkGet: () => sdk.executeHttpRequest(sdkDestination, { method: 'get', url: path }),
    oursPost: async () => (await ours.request('BENCH', { method: 'POST', path, body: { a: 1 } })).json(),
    sdkPost: () => sdk.executeHttpRequest(sdkDestination, { method: 'post', url: path, data: { a: 1 } }),
  })
  const { oursGet, undiciGet, sdkGet, oursPost, sdkPost } = m
  await ours.closeHttpPools()
  server.close()

  const reqOurs = requireTime(root, { cwd: root })
  const reqSdk = requireTime('@sap-cloud-sdk/http-client', { cwd: root })

  const fmt = (n) => n.toFixed(3)
  const rows = [
    ['GET, cached destination vs raw undici.request', oursGet, undiciGet, 'ms/req', '≥ 0.9×'],
    ['GET, cached destination vs SDK executeHttpRequest', oursGet, sdkGet, 'ms/req', '≥ 2×'],
    ['POST with CSRF vs SDK default (HEAD per POST)', oursPost, sdkPost, 'ms/req', '≥ 2×'],
    ['require() time', reqOurs, reqSdk, 'ms', '—'],
  ]
  console.log(
    `${REQUESTS} sequential requests × ${ROUNDS} rounds (median), loopback; ratio = baseline / ours (higher is better)\n`,
  )
  printMarkdownTable(
    ['case', 'ours', 'baseline', 'unit', 'ratio', 'goal'],
    rows.map(([name, a, b, unit, goal]) => [name, fmt(a), fmt(b), unit, `${(b / a).toFixed(2)}×`, goal]),
    ['---', '---:', '---:', '---', '---:', '---'],
  )
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
