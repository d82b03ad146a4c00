// CAP remote query: cap-connectivity plugin vs stock CAP (Cloud SDK transport, native fetch
// transport) against the same fast local OData V2 server, in alternating blocks in one run.
// The server runs in a child process so the client CPU figures are the CAP process's own.
// Usage: npm run build && node bench/cap.bench.js [--rounds 6] [--block 300]
'use strict'
const path = require('node:path')
const { arg, median, printMarkdownTable, requireTime, startChild } = require('./lib/common')

const ROUNDS = arg('rounds', 6)
const BLOCK = arg('block', 300)
const WARMUP = arg('warmup', 200)

function serve() {
  // Fast OData V2 server: a canned answer (10 rows) for every A_SalesOrder query.
  const http = require('node:http')
  const rows = Array.from({ length: 10 }, (_, i) => ({
    __metadata: { type: 'API_SALES_ORDER_SRV.A_SalesOrder' },
    SalesOrder: String(1000001 + i),
    SalesOrderType: 'OR',
    SoldToParty: '17100001',
    TransactionCurrency: 'AED',
    TotalNetAmount: String(9000 - i * 100) + '.000',
    CreationDate: '/Date(1704758400000)/',
  }))
  const body = Buffer.from(JSON.stringify({ d: { results: rows } }))
  const server = http.createServer((req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
    res.end(body)
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
  process.on('disconnect', () => process.exit(0))
}

async function main() {
  const {
    child: server,
    message: { port },
  } = await startChild({ file: __filename, args: ['--server'] })
  const app = path.resolve(__dirname, '..', 'sample-app')
  process.chdir(app)
  const cds = require(require.resolve('@sap/cds', { paths: [app] }))
  cds.root = app
  await cds.plugins
  const model = 'srv/external/API_SALES_ORDER_SRV'
  const credentials = { url: `http://127.0.0.1:${port}`, path: '/sap/opu/odata/sap/API_SALES_ORDER_SRV' }
  const opts = { kind: 'odata-v2', model, credentials, service: 'API_SALES_ORDER_SRV' }
  const services = {
    'cap-connectivity': await cds.connect.to('BENCH_OURS', { ...opts }),
    'CAP + Cloud SDK': await cds.connect.to('BENCH_SDK', { ...opts, connectivity: false }),
    'CAP native fetch': await cds.connect.to('BENCH_NATIVE', { ...opts, connectivity: false }),
  }
  if (services['cap-connectivity'].constructor.name !== 'ConnectivityRemoteService')
    throw new Error('plugin not active')
  const { SELECT } = cds.ql
  const query = () =>
    SELECT.from('API_SALES_ORDER_SRV.A_SalesOrder')
      .where({ TransactionCurrency: 'AED' })
      .orderBy('TotalNetAmount desc')
      .limit(10)

  // Transport choice of stock CAP is read per request from cds.env.remote.native_fetch.
  const select = (name) => {
    cds.env.remote = { ...cds.env.remote, native_fetch: name === 'CAP native fetch' }
  }
  async function block(name, n) {
    select(name)
    const srv = services[name]
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      const rows = await srv.run(query())
      if (rows.length !== 10) throw new Error(`${name}: ${rows.length} rows`)
    }
    const wall = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    return { wallMs: wall / n, cpuUs: (cpu.user + cpu.system) / n }
  }

  const names = Object.keys(services)
  for (const name of names) await block(name, WARMUP)
  const results = Object.fromEntries(names.map((n) => [n, []]))
  for (let r = 0; r < ROUNDS; r++) {
    // Rotate the order so no transport always runs first (GC, JIT, timer noise).
    const order = names.map((_, i) => names[(i + r) % names.length])
    for (const name of order) results[name].push(await block(name, BLOCK))
  }
  const summary = names.map((name) => ({
    name,
    wallMs: median(results[name].map((x) => x.wallMs)),
    cpuUs: median(results[name].map((x) => x.cpuUs)),
  }))
  const ours = summary[0]
  console.log(
    `\nCAP remote query (odata-v2, 10 rows) — ${ROUNDS} rounds × ${BLOCK} queries, medians, Node ${process.version}, @sap/cds ${cds.version}`,
  )
  printMarkdownTable(
    ['transport', 'wall ms/query', 'client CPU µs/query', 'wall ratio (x / ours)', 'CPU ratio (x / ours)'],
    summary.map((s) => [
      s.name,
      s.wallMs.toFixed(3),
      s.cpuUs.toFixed(0),
      `${(s.wallMs / ours.wallMs).toFixed(2)}×`,
      `${(s.cpuUs / ours.cpuUs).toFixed(2)}×`,
    ]),
    ['---', '---:', '---:', '---:', '---:'],
  )
  console.log(
    'ratio > 1: cap-connectivity is faster / cheaper. Goal: ≥ 1.3× vs Cloud SDK, ≥ 1.0× vs native fetch.',
  )

  // Plugin load time: a fresh process requires @sap/cds, then times cds-plugin.js.
  const load = requireTime('cap-connectivity/cds-plugin', {
    cwd: app,
    runs: 7,
    prelude: "require('@sap/cds')",
  })
  console.log(`plugin load (require cds-plugin.js after @sap/cds): median ${load.toFixed(1)} ms of 7 runs`)
  server.kill()
  process.exit(0)
}

if (process.argv[2] === '--server') serve()
else
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
