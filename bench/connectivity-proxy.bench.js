#!/usr/bin/env node
// Local connectivity proxy benchmark: HTTP GETs through our proxy (SAP HTTP proxy on the tunnel
// server → tunnel session → agent → backend, server and agent in their own processes) against a
// baseline of the same shape without a tunnel: a minimal Node forward proxy process → a minimal
// Node reverse proxy process (the agent's role: parse HTTP, forward to the backend) → backend, both
// with keep-alive, no auth, no allowlist. Also SOCKS5 (0x80) connect + 1-byte round trip through our
// proxy against a direct TCP connect. Bounded counts.
// Run with the built dist/: `npm run bench` or `node bench/run.js connectivity-proxy`.
'use strict'
const { fork } = require('node:child_process')
const http = require('node:http')
const net = require('node:net')
const path = require('node:path')
const { printMarkdownTable } = require('./lib/common')

const DIST = path.resolve(__dirname, '..', 'dist')
const SECRET = 'bench-secret-0123456789abcdef'
const SEQ = 1500
const CONC = 16
const TOTAL = 6000
const SOCKS_ROUNDS = 500

// ---------------------------------------------------------------- child roles
function listen(server) {
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port)))
}
const roles = {
  async backend() {
    const body = JSON.stringify({ d: { results: [{ SalesOrder: '1', TotalNetAmount: '10.00' }] } })
    const h = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    })
    const echo = net.createServer((s) => {
      s.on('error', () => s.destroy())
      s.pipe(s)
    })
    return { http: await listen(h), echo: await listen(echo) }
  },
  async server() {
    const { TunnelServer } = require(path.join(DIST, 'tunnel/server.js'))
    const { startLocalProxy } = require(path.join(DIST, 'tunnel/proxy/attach.js'))
    const server = new TunnelServer({ port: 0, auth: { secret: SECRET } })
    const { port } = await server.listen()
    const proxy = await startLocalProxy(server, { httpPort: 0, socksPort: 0, trustedAccount: 'acme' })
    return { port, httpPort: proxy.httpPort, socksPort: proxy.socksPort }
  },
  async agent({ url, httpPort, echoPort }) {
    const { TunnelAgent } = require(path.join(DIST, 'tunnel/agent.js'))
    const { createDevToken } = require(path.join(DIST, 'tunnel/auth.js'))
    const agent = new TunnelAgent({
      server: url,
      token: createDevToken({ secret: SECRET, subject: 'bench-agent', account: 'acme' }),
      config: {
        locationId: '',
        mappings: [
          {
            protocol: 'HTTP',
            virtualHost: 's4.virtual',
            virtualPort: 80,
            internalHost: '127.0.0.1',
            internalPort: httpPort,
            internalProtocol: 'http',
            resources: [{ path: '/', subPaths: true }],
          },
          {
            protocol: 'TCP',
            virtualHost: 'echo.virtual',
            virtualPort: 7,
            internalHost: '127.0.0.1',
            internalPort: echoPort,
          },
        ],
      },
    })
    await agent.start()
    return {}
  },
  async reverseProxy({ to }) {
    const keep = new http.Agent({ keepAlive: true })
    const s = http.createServer((req, res) => {
      const up = http.request(
        { host: '127.0.0.1', port: to, method: req.method, path: req.url, headers: req.headers, agent: keep },
        (r) => {
          res.writeHead(r.statusCode, r.headers)
          r.pipe(res)
        },
      )
      up.on('error', () => res.destroy())
      req.pipe(up)
    })
    return { port: await listen(s) }
  },
  async naiveProxy({ nextPort }) {
    // Absolute-URI forward proxy to the next hop with keep-alive (as ours keeps tunnel streams).
    const keep = new http.Agent({ keepAlive: true })
    const s = http.createServer((req, res) => {
      const u = new URL(req.url)
      const up = http.request(
        {
          host: '127.0.0.1',
          port: nextPort,
          method: req.method,
          path: u.pathname + u.search,
          headers: { ...req.headers, host: u.host },
          agent: keep,
        },
        (r) => {
          res.writeHead(r.statusCode, r.headers)
          r.pipe(res)
        },
      )
      up.on('error', () => res.destroy())
      req.pipe(up)
    })
    return { port: await listen(s) }
  },
}

function serveChild() {
  process.on('message', async (m) => {
    try {
      process.send({ ok: await roles[m.role](m.args ?? {}) })
    } catch (err) {
      process.send({ error: String(err?.stack) })
    }
  })
}

// ---------------------------------------------------------------- driver
const children = []
function start(role, args) {
  const c = fork(__filename, ['child'], { stdio: 'inherit' })
  children.push(c)
  return new Promise((resolve, reject) => {
    c.once('message', (m) => (m.error ? reject(new Error(m.error)) : resolve(m.ok)))
    c.send({ role, args })
  })
}

function get(agent, proxyPort) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint()
    const req = http.request(
      {
        host: '127.0.0.1',
        port: proxyPort,
        path: 'http://s4.virtual/sap/opu/odata/sap/API/A_SalesOrder',
        agent,
      },
      (res) => {
        res.resume()
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(Number(process.hrtime.bigint() - t) / 1000)
            : reject(new Error(`HTTP ${res.statusCode}`)),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

async function httpRun(proxyPort) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONC })
  for (let i = 0; i < 200; i++) await get(agent, proxyPort) // warm-up
  const lat = []
  for (let i = 0; i < SEQ; i++) lat.push(await get(agent, proxyPort))
  let next = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (next++ < TOTAL) await get(agent, proxyPort)
    }),
  )
  const secs = Number(process.hrtime.bigint() - t0) / 1e9
  agent.destroy()
  return { p50: pct(lat, 50), p99: pct(lat, 99), rps: TOTAL / secs }
}

function socksRoundTrip(port) {
  const { SocksClient } = require('socks')
  const head = Buffer.alloc(5)
  head[0] = 1
  return async () => {
    const t = process.hrtime.bigint()
    const { socket } = await SocksClient.createConnection({
      proxy: {
        host: '127.0.0.1',
        port,
        type: 5,
        custom_auth_method: 0x80,
        custom_auth_request_handler: async () => Buffer.concat([head, Buffer.from([0])]),
        custom_auth_response_size: 2,
        custom_auth_response_handler: async (d) => d[0] === 1 && d[1] === 0,
      },
      command: 'connect',
      destination: { host: 'echo.virtual', port: 7 },
    })
    await new Promise((r) => {
      socket.once('data', r)
      socket.write('x')
    })
    socket.destroy()
    return Number(process.hrtime.bigint() - t) / 1000
  }
}
function directRoundTrip(port) {
  return () =>
    new Promise((resolve, reject) => {
      const t = process.hrtime.bigint()
      const s = net.connect(port, '127.0.0.1', () => s.write('x'))
      s.once('data', () => {
        s.destroy()
        resolve(Number(process.hrtime.bigint() - t) / 1000)
      })
      s.on('error', reject)
    })
}
async function rounds(fn, n) {
  for (let i = 0; i < 50; i++) await fn()
  const xs = []
  for (let i = 0; i < n; i++) xs.push(await fn())
  return { p50: pct(xs, 50), p99: pct(xs, 99) }
}

async function main() {
  const backend = await start('backend')
  const server = await start('server')
  await start('agent', {
    url: `ws://127.0.0.1:${server.port}/`,
    httpPort: backend.http,
    echoPort: backend.echo,
  })
  const reverse = await start('reverseProxy', { to: backend.http })
  const naive = await start('naiveProxy', { nextPort: reverse.port })

  const ours = await httpRun(server.httpPort)
  const base = await httpRun(naive.port)
  const socks = await rounds(socksRoundTrip(server.socksPort), SOCKS_ROUNDS)
  const direct = await rounds(directRoundTrip(backend.echo), SOCKS_ROUNDS)

  const f = (x) => x.toFixed(0)
  const rows = [
    ['HTTP GET latency p50 (µs), sequential', f(ours.p50), f(base.p50), (ours.p50 / base.p50).toFixed(2)],
    ['HTTP GET latency p99 (µs), sequential', f(ours.p99), f(base.p99), (ours.p99 / base.p99).toFixed(2)],
    [
      `HTTP GET throughput (req/s), ${CONC} concurrent`,
      f(ours.rps),
      f(base.rps),
      (ours.rps / base.rps).toFixed(2),
    ],
    [
      'SOCKS5 0x80 connect + 1-byte RTT p50 (µs) vs direct TCP',
      f(socks.p50),
      f(direct.p50),
      (socks.p50 / direct.p50).toFixed(2),
    ],
    [
      'SOCKS5 0x80 connect + 1-byte RTT p99 (µs) vs direct TCP',
      f(socks.p99),
      f(direct.p99),
      (socks.p99 / direct.p99).toFixed(2),
    ],
  ]
  printMarkdownTable(
    ['measurement', 'ours (proxy → tunnel → agent)', 'baseline (forward proxy → reverse proxy)', 'ratio'],
    rows,
  )
}

if (process.argv[2] === 'child') serveChild()
else
  main()
    .catch((err) => {
      console.error(err)
      process.exitCode = 1
    })
    .finally(() => {
      for (const c of children) c.kill()
    })
