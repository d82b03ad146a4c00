// Failover routing overhead: GET through a destination group (priority routing, probes running)
// vs the same GET to the plain destination vs undici directly, against one fast local server in a
// child process. Alternating blocks in one run; prints requests/s and the ratio to undici.
// Usage: npm run build && node bench/failover.bench.js [--rounds 5] [--block 2000] [--concurrency 8]
'use strict'
const path = require('node:path')
const { arg, median, startChild } = require('./lib/common')

const ROUNDS = arg('rounds', 5)
const BLOCK = arg('block', 2000)
const CONCURRENCY = arg('concurrency', 8)

function serve() {
  const http = require('node:http')
  const body = Buffer.from(JSON.stringify({ ok: true, region: 'eu20' }))
  const servers = [0, 1].map(() => {
    const s = http.createServer((req, res) => {
      req.resume()
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length })
      res.end(body)
    })
    s.keepAliveTimeout = 60_000
    return s
  })
  let ready = 0
  for (const s of servers) {
    s.listen(0, '127.0.0.1', () => {
      if (++ready === 2) process.send({ ports: servers.map((x) => x.address().port) })
    })
  }
  process.on('disconnect', () => process.exit(0))
}

async function block(fn) {
  let next = 0
  const started = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < BLOCK) await fn()
    }),
  )
  return Number(process.hrtime.bigint() - started) / 1e6
}

async function main() {
  const {
    child: server,
    message: { ports },
  } = await startChild({ file: __filename, args: ['--server'] })
  const lib = require(path.resolve(__dirname, '..', 'dist', 'index.js'))
  const undici = require('undici')
  for (const [i, port] of ports.entries()) {
    lib.registerDestination({
      Name: `M${i}`,
      Type: 'HTTP',
      URL: `http://127.0.0.1:${port}`,
      ProxyType: 'Internet',
      Authentication: 'NoAuthentication',
    })
  }
  lib.registerDestinationGroup({
    name: 'G',
    members: [{ destination: 'M0' }, { destination: 'M1' }],
    probe: { path: '/health', intervalSeconds: 1, timeoutSeconds: 0.5, toleratedFailures: 2 },
  })
  const agent = new undici.Agent({ keepAliveTimeout: 60_000, connections: CONCURRENCY })
  const url = `http://127.0.0.1:${ports[0]}/api`
  const cases = {
    'undici.request (baseline)': async () => {
      const r = await undici.request(url, { dispatcher: agent })
      await r.body.text()
    },
    "request('M0') plain destination": async () => {
      const r = await lib.request('M0', { path: '/api' })
      await r.text()
    },
    "request('G') destination group": async () => {
      const r = await lib.request('G', { path: '/api' })
      await r.text()
    },
  }
  for (const fn of Object.values(cases)) await block(fn) // warm-up
  const ms = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
  for (let r = 0; r < ROUNDS; r++) for (const [k, fn] of Object.entries(cases)) ms[k].push(await block(fn))
  const base = BLOCK / median(ms['undici.request (baseline)'])
  const rows = Object.entries(ms).map(([k, v]) => {
    const rps = BLOCK / median(v)
    return { case: k, 'req/s (median)': Math.round(rps * 1000), 'ratio to undici': (rps / base).toFixed(2) }
  })
  console.log(`GET ${BLOCK} requests × ${ROUNDS} rounds, concurrency ${CONCURRENCY}`)
  console.table(rows)
  const status = await lib.getGroupStatus('G')
  console.log(
    `group G active=${status.active}, probes ok: ${status.members.map((m) => `${m.destination}:${m.healthy}`).join(' ')}`,
  )
  lib.closeFailover()
  await agent.close()
  server.disconnect()
  process.exit(0)
}

if (process.argv.includes('--server')) serve()
else
  main().catch((err) => {
    console.error(err)
    process.exit(1)
  })
