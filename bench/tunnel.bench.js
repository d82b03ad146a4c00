#!/usr/bin/env node
// Tunnel benchmark: our multiplexed tunnel (forward client → tunnel server → agent, each its own
// process) against a relay chain of the same shape (three plain Node TCP pipe relays in separate
// processes, no framing, no auth), plus plain ws and direct TCP for context. Every measurement is
// bounded (256 MiB per throughput run, fixed round-trip counts) so the whole run stays short.
// Run with the built dist/: `npm run bench` or `node bench/run.js tunnel`.
'use strict'
const { fork } = require('node:child_process')
const net = require('node:net')
const path = require('node:path')

const DIST = path.resolve(__dirname, '..', 'dist')
const MiB = 1024 * 1024
const BULK = 256 * MiB
const RTT_ROUNDS = 1500
const LOADED_ROUNDS = 1000
const CONNECT_ROUNDS = 200
// Opens measured at the API, after enough warm-up opens for V8 to optimise the open path in all
// three processes (with 50 the server and agent were still running it unoptimised: ~+50%).
const OPEN_WARMUP = 2000
const OPEN_ROUNDS = 500
const IDLE_STREAMS = 10_000
const IDLE_RELAY = 5_000 // the relays hold two sockets per connection; the fd limit caps them lower
const SECRET = 'bench-secret-0123456789'

// ---------------------------------------------------------------- child roles

/** Target: first byte picks the mode. E = echo, U = sink (u64 length, answers 'k'), D = source (u64 length, 0 = until closed). */
function startTarget() {
  const chunk = Buffer.alloc(64 * 1024, 0x61)
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
    s.on('error', () => s.destroy())
    let head = Buffer.alloc(0)
    const onData = (d) => {
      head = Buffer.concat([head, d])
      if (head[0] === 0x45 /* E */) {
        s.off('data', onData)
        const rest = head.subarray(1)
        if (rest.length) s.write(rest)
        s.pipe(s)
        return
      }
      if (head.length < 9) return
      s.off('data', onData)
      const n = Number(head.readBigUInt64BE(1))
      const rest = head.subarray(9)
      if (head[0] === 0x55 /* U */) {
        let got = rest.length
        const done = () => s.end('k')
        if (got >= n) return done()
        s.on('data', (x) => {
          got += x.length
          if (got >= n) done()
        })
      } else {
        let left = n === 0 ? Number.POSITIVE_INFINITY : n
        const pump = () => {
          while (left > 0) {
            const c = left >= chunk.length ? chunk : chunk.subarray(0, left)
            left -= c.length
            if (!s.write(c)) return s.once('drain', pump)
          }
          s.end()
        }
        s.on('close', () => {
          left = 0
        })
        pump()
      }
    }
    s.on('data', onData)
  })
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
}

function startRelay(next) {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (a) => {
    const b = net.connect({ port: next, host: '127.0.0.1', allowHalfOpen: true, noDelay: true })
    a.on('error', () => b.destroy())
    b.on('error', () => a.destroy())
    a.pipe(b)
    b.pipe(a)
  })
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
}

function startWsServer() {
  const { WebSocketServer } = require('ws')
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    perMessageDeflate: false,
    maxPayload: 4 * MiB,
  })
  const chunk = Buffer.alloc(64 * 1024, 0x61)
  wss.on('connection', (ws) => {
    ws.once('message', (m) => {
      const mode = m.toString('latin1', 0, 1)
      if (mode === 'E') ws.on('message', (x) => ws.send(x))
      else if (mode === 'U') {
        const n = Number(m.readBigUInt64BE(1))
        let got = 0
        ws.on('message', (x) => {
          got += x.length
          if (got >= n) ws.send('k')
        })
      } else {
        let left = Number(m.readBigUInt64BE(1))
        const pump = () => {
          while (left > 0 && ws.bufferedAmount < 4 * MiB) {
            ws.send(chunk)
            left -= chunk.length
          }
          if (left > 0) setImmediate(pump)
        }
        pump()
      }
    })
  })
  wss.on('listening', () => process.send({ port: wss.address().port }))
}

/** Floor for opening a stream: the same four one-way hops over plain ws, no framing, no auth. */
function startWsOpenServer() {
  const { WebSocketServer } = require('ws')
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
  let agent
  let client
  wss.on('connection', (ws, req) => {
    if (req.url === '/agent') {
      agent = ws
      ws.on('message', (m) => client?.send(m))
    } else {
      client = ws
      ws.on('message', (m) => agent?.send(m))
    }
  })
  wss.on('listening', () => process.send({ port: wss.address().port }))
}

/** Answers each message once a TCP connection to the target is up (as our agent answers OPEN). */
function startWsOpenAgent(serverPort, targetPort) {
  const WebSocket = require('ws')
  const ws = new WebSocket(`ws://127.0.0.1:${serverPort}/agent`, { perMessageDeflate: false })
  ws.on('message', (m) => {
    const s = net.connect({ port: targetPort, host: '127.0.0.1', noDelay: true }, () => {
      ws.send(m)
      s.destroy()
    })
    s.on('error', () => undefined)
  })
  ws.on('open', () => process.send({ ready: true }))
}

async function startTunnelServer() {
  const { TunnelServer } = require(path.join(DIST, 'tunnel'))
  const server = new TunnelServer({ auth: { secret: SECRET } })
  const { port } = await server.listen()
  process.on('message', (m) => {
    if (m === 'streams') process.send({ streams: server.agents().reduce((n, a) => n + a.streams, 0) })
  })
  process.send({ port })
}

async function startTunnelAgent(url, targetPort, variant) {
  const { TunnelAgent, createDevToken } = require(path.join(DIST, 'tunnel'))
  const zero = variant === 'zero-mask'
  const agent = new TunnelAgent({
    server: url,
    zeroMask: zero,
    token: createDevToken({ secret: SECRET, subject: 'agent', account: 'bench' }),
    config: {
      locationId: zero ? 'zero-mask' : '',
      mappings: [
        {
          protocol: 'TCP',
          virtualHost: 'target.virtual',
          virtualPort: 1,
          internalHost: '127.0.0.1',
          internalPort: targetPort,
        },
        // HTTP mapping: streams are accepted without a backend connection, ideal for idle-stream memory.
        {
          protocol: 'HTTP',
          virtualHost: 'idle.virtual',
          virtualPort: 80,
          internalHost: '127.0.0.1',
          internalPort: targetPort,
          resources: [],
        },
      ],
    },
  })
  await agent.start()
  setTimeout(() => process.send({ ready: true }), 100)
}

async function startForward(url, variant) {
  const { ForwardClient, createDevToken } = require(path.join(DIST, 'tunnel'))
  const zero = variant === 'zero-mask'
  const fwd = new ForwardClient({
    server: url,
    zeroMask: zero,
    locationId: zero ? 'zero-mask' : '',
    token: createDevToken({ secret: SECRET, subject: 'dev', account: 'bench' }),
    mappings: ['0:target.virtual:1', '0:idle.virtual:80'],
  })
  const ls = await fwd.start()
  process.send({ port: ls[0].address.port, idlePort: ls[1].address.port })
}

const role = process.argv[2]
if (role) {
  // Every child — tunnel processes and the relays, target and ws server alike — runs with the V8
  // setting the CLI applies to its tunnel processes (lib/cli/gc.ts), so both sides are tuned the same.
  require(path.join(DIST, 'cli', 'gc')).tuneTunnelGc()
  process.on('message', (m) => {
    if (m === 'rss') process.send({ rss: process.memoryUsage().rss })
    if (m === 'cpu') {
      const u = process.cpuUsage()
      process.send({ cpu: (u.user + u.system) / 1e6 })
    }
    if (m === 'exit') process.exit(0)
  })
  if (role === 'target') startTarget()
  else if (role === 'relay') startRelay(Number(process.argv[3]))
  else if (role === 'ws') startWsServer()
  else if (role === 'ws-open-server') startWsOpenServer()
  else if (role === 'ws-open-agent') startWsOpenAgent(Number(process.argv[3]), Number(process.argv[4]))
  else if (role === 'tunnel-server') startTunnelServer()
  else if (role === 'tunnel-agent')
    startTunnelAgent(process.argv[3], Number(process.argv[4]), process.argv[5])
  else if (role === 'tunnel-forward') startForward(process.argv[3], process.argv[4])
}

// ---------------------------------------------------------------- orchestration

const children = []
function spawn(...args) {
  const child = fork(__filename, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.push(child)
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)))
  })
  return { child, ready }
}
function ask(child, question) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m && typeof m === 'object' && question in m) {
        child.off('message', on)
        resolve(m[question])
      }
    }
    child.on('message', on)
    child.send(question)
  })
}

// ---------------------------------------------------------------- measurements (TCP paths)

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', noDelay: true, allowHalfOpen: true })
    s.once('connect', () => resolve(s))
    s.once('error', reject)
  })
}
const header = (mode, n) => {
  const b = Buffer.alloc(9)
  b.write(mode, 0, 'latin1')
  b.writeBigUInt64BE(BigInt(n), 1)
  return b
}
const mbps = (bytes, ns) => bytes / 1e6 / (Number(ns) / 1e9)

async function upload(port, total = BULK) {
  const s = await connect(port)
  const chunk = Buffer.alloc(64 * 1024, 0x62)
  const t = process.hrtime.bigint()
  const done = new Promise((resolve) => s.once('data', resolve))
  s.write(header('U', total))
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!s.write(chunk)) await new Promise((r) => s.once('drain', r))
  }
  await done
  const ns = process.hrtime.bigint() - t
  s.destroy()
  return mbps(total, ns)
}

async function download(port, total = BULK) {
  const s = await connect(port)
  const t = process.hrtime.bigint()
  let got = 0
  await new Promise((resolve) => {
    s.on('data', (d) => {
      got += d.length
      if (got >= total) resolve()
    })
    s.write(header('D', total))
  })
  const ns = process.hrtime.bigint() - t
  s.destroy()
  return mbps(total, ns)
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** 1-byte round trips on one connection; returns [p50, p99] in µs. */
async function pingPong(port, rounds) {
  const s = await connect(port)
  s.write('E')
  const times = []
  const one = Buffer.from('x')
  for (let i = 0; i < rounds + 100; i++) {
    const t = process.hrtime.bigint()
    s.write(one)
    await new Promise((r) => s.once('data', r))
    if (i >= 100) times.push(Number(process.hrtime.bigint() - t) / 1000)
  }
  s.destroy()
  times.sort((a, b) => a - b)
  return [percentile(times, 50), percentile(times, 99)]
}

/** Same ping-pong while another connection on the same path downloads without limit. */
async function pingUnderBulk(port) {
  const bulk = await connect(port)
  let bulkBytes = 0
  bulk.on('data', (d) => {
    bulkBytes += d.length
  })
  bulk.on('error', () => undefined)
  bulk.write(header('D', 0))
  await new Promise((r) => setTimeout(r, 300))
  const t = process.hrtime.bigint()
  const before = bulkBytes
  const r = await pingPong(port, LOADED_ROUNDS)
  const bulkRate = mbps(bulkBytes - before, process.hrtime.bigint() - t)
  bulk.destroy()
  await new Promise((res) => setTimeout(res, 200))
  return [...r, bulkRate]
}

/** Connect + first 1-byte round trip, sequentially; p50 in µs. */
async function connectRtt(port) {
  const times = []
  for (let i = 0; i < CONNECT_ROUNDS; i++) {
    const t = process.hrtime.bigint()
    const s = await connect(port)
    s.write('Ex')
    await new Promise((r) => s.once('data', r))
    times.push(Number(process.hrtime.bigint() - t) / 1000)
    s.destroy()
  }
  times.sort((a, b) => a - b)
  return percentile(times, 50)
}

/** Opens `n` idle connections (batches of 500) and keeps them. */
async function openIdle(port, n, first) {
  const sockets = []
  for (let i = 0; i < n; i += 500) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(500, n - i) }, async () => {
        const s = await connect(port)
        s.on('error', () => undefined)
        if (first) s.write(first)
        return s
      }),
    )
    sockets.push(...batch)
  }
  return sockets
}

// ---------------------------------------------------------------- plain ws (context)

async function wsMeasure(port) {
  const WebSocket = require('ws')
  const open = () =>
    new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false })
      ws.once('open', () => resolve(ws))
    })
  const chunk = Buffer.alloc(64 * 1024, 0x62)
  let ws = await open()
  let t = process.hrtime.bigint()
  ws.send(header('U', BULK))
  const upDone = new Promise((r) => ws.once('message', r))
  for (let sent = 0; sent < BULK; sent += chunk.length) {
    ws.send(chunk)
    if (ws.bufferedAmount > 4 * MiB) await new Promise((r) => setImmediate(r))
  }
  await upDone
  const up = mbps(BULK, process.hrtime.bigint() - t)
  ws.close()
  ws = await open()
  t = process.hrtime.bigint()
  let got = 0
  await new Promise((resolve) => {
    ws.on('message', (m) => {
      got += m.length
      if (got >= BULK) resolve()
    })
    ws.send(header('D', BULK))
  })
  const down = mbps(BULK, process.hrtime.bigint() - t)
  ws.close()
  ws = await open()
  ws.send('E')
  const times = []
  for (let i = 0; i < RTT_ROUNDS + 100; i++) {
    const s = process.hrtime.bigint()
    ws.send('x')
    await new Promise((r) => ws.once('message', r))
    if (i >= 100) times.push(Number(process.hrtime.bigint() - s) / 1000)
  }
  ws.close()
  times.sort((a, b) => a - b)
  return { up, down, p50: percentile(times, 50), p99: percentile(times, 99) }
}

// ---------------------------------------------------------------- stream open floor (context)

/** The open pattern over plain ws (client → server → agent → TCP connect → back); times in µs. */
async function wsOpenFloor(targetPort) {
  const WebSocket = require('ws')
  const server = spawn('ws-open-server')
  const serverPort = (await server.ready).port
  const agent = spawn('ws-open-agent', String(serverPort), String(targetPort))
  await agent.ready
  const ws = new WebSocket(`ws://127.0.0.1:${serverPort}/client`, { perMessageDeflate: false })
  await new Promise((r) => ws.once('open', r))
  const msg = Buffer.alloc(40, 1)
  const times = []
  for (let i = 0; i < OPEN_WARMUP + OPEN_ROUNDS; i++) {
    const t = process.hrtime.bigint()
    ws.send(msg)
    await new Promise((r) => ws.once('message', r))
    if (i >= OPEN_WARMUP) times.push(Number(process.hrtime.bigint() - t) / 1000)
  }
  ws.close()
  return times.sort((a, b) => a - b)
}

// ---------------------------------------------------------------- main

/** CPU seconds used by the given child processes while `fn` runs. */
async function cpuOf(procs, fn) {
  const before = await Promise.all(procs.map((c) => ask(c, 'cpu')))
  const value = await fn()
  const after = await Promise.all(procs.map((c) => ask(c, 'cpu')))
  return [value, after.reduce((n, a, i) => n + a - before[i], 0)]
}

/**
 * Measures every path in interleaved rounds and keeps each path's best round: load from other
 * processes on a shared machine comes and goes, and interleaving gives every path the same chances.
 */
async function measurePaths(paths, rounds = 2) {
  const out = {}
  for (const [name, { port }] of Object.entries(paths)) {
    // Warm up (JIT, socket buffers) the same way on every path before measuring.
    await upload(port, 64 * MiB)
    await download(port, 64 * MiB)
    out[name] = {
      up: 0,
      down: 0,
      cpu: Number.POSITIVE_INFINITY,
      p50: Number.POSITIVE_INFINITY,
      p99: 0,
      lp50: 0,
      lp99: 0,
      bulk: 0,
      connect50: Number.POSITIVE_INFINITY,
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const [name, { port, procs, throughputOnly }] of Object.entries(paths)) {
      const r = out[name]
      const [up, cpuUp] = await cpuOf(procs, () => upload(port))
      const [down, cpuDown] = await cpuOf(procs, () => download(port))
      r.up = Math.max(r.up, up)
      r.down = Math.max(r.down, down)
      r.cpu = Math.min(r.cpu, (cpuUp + cpuDown) / ((2 * BULK) / 2 ** 30))
      if (throughputOnly) continue
      const [p50, p99] = await pingPong(port, RTT_ROUNDS)
      if (p50 < r.p50) [r.p50, r.p99] = [p50, p99]
      r.connect50 = Math.min(r.connect50, await connectRtt(port))
    }
  }
  for (const [name, { port, throughputOnly }] of Object.entries(paths)) {
    if (throughputOnly) continue
    const [lp50, lp99, bulk] = await pingUnderBulk(port)
    Object.assign(out[name], { lp50, lp99, bulk })
  }
  return out
}

async function main() {
  const started = Date.now()
  const target = spawn('target')
  const targetPort = (await target.ready).port

  const r3 = spawn('relay', String(targetPort))
  const r2 = spawn('relay', String((await r3.ready).port))
  const r1 = spawn('relay', String((await r2.ready).port))
  const relayPort = (await r1.ready).port

  const ws = spawn('ws')
  const wsPort = (await ws.ready).port

  const ts = spawn('tunnel-server')
  const url = `ws://127.0.0.1:${(await ts.ready).port}`
  const ag = spawn('tunnel-agent', url, String(targetPort))
  await ag.ready
  const fw = spawn('tunnel-forward', url)
  const fwd = await fw.ready
  // The same tunnel with an all-zero masking key, which is what clients use over wss:// by default.
  const agZ = spawn('tunnel-agent', url, String(targetPort), 'zero-mask')
  await agZ.ready
  const fwZ = spawn('tunnel-forward', url, 'zero-mask')
  const fwdZ = await fwZ.ready

  const results = await measurePaths({
    direct: { port: targetPort, procs: [] },
    relay: { port: relayPort, procs: [r1.child, r2.child, r3.child] },
    tunnel: { port: fwd.port, procs: [fw.child, ts.child, ag.child] },
    zero: { port: fwdZ.port, procs: [fwZ.child, ts.child, agZ.child], throughputOnly: true },
  })
  const wsr = await wsMeasure(wsPort)

  // Stream open time at the API: TunnelClient.openStream → server → agent → TCP connect to the target.
  const { TunnelClient, createDevToken } = require(path.join(DIST, 'tunnel'))
  const client = new TunnelClient({
    server: url,
    token: createDevToken({ secret: SECRET, subject: 'bench', account: 'bench' }),
  })
  await client.connect()
  const opens = []
  for (let i = 0; i < OPEN_WARMUP + OPEN_ROUNDS; i++) {
    const t = process.hrtime.bigint()
    const s = await client.openStream({ host: 'target.virtual', port: 1 })
    if (i >= OPEN_WARMUP) opens.push(Number(process.hrtime.bigint() - t) / 1000)
    s.destroy()
  }
  opens.sort((a, b) => a - b)
  await client.close()
  const floorOpens = await wsOpenFloor(targetPort)

  // Idle streams: 10 000 local connections through the forward client to an HTTP mapping.
  const idle = await openIdle(fwd.idlePort, IDLE_STREAMS)
  const deadline = Date.now() + 30_000
  while ((await ask(ts.child, 'streams')) < IDLE_STREAMS && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100))
  const idleStreams = await ask(ts.child, 'streams')
  const rss = {
    forward: await ask(fw.child, 'rss'),
    server: await ask(ts.child, 'rss'),
    agent: await ask(ag.child, 'rss'),
  }
  for (const s of idle) s.destroy()
  const relayIdle = await openIdle(relayPort, IDLE_RELAY, 'E')
  await new Promise((r) => setTimeout(r, 500))
  const relayRss = Math.max(
    await ask(r1.child, 'rss'),
    await ask(r2.child, 'rss'),
    await ask(r3.child, 'rss'),
  )
  for (const s of relayIdle) s.destroy()

  for (const c of children) c.send('exit')

  const d = results.direct
  const r = results.relay
  const t = results.tunnel
  const z = results.zero
  const f = (n, digits = 0) => (typeof n === 'number' ? n.toFixed(digits) : String(n))
  const rows = [
    ['throughput up (MB/s)', f(t.up), f(r.up), f(wsr.up), f(d.up), f(t.up / r.up, 2), '≥ 0.70'],
    ['throughput down (MB/s)', f(t.down), f(r.down), f(wsr.down), f(d.down), f(t.down / r.down, 2), '≥ 0.70'],
    ['CPU of the 3 hops (s/GiB)', f(t.cpu, 2), f(r.cpu, 2), '', '0', f(t.cpu / r.cpu, 2), ''],
    ['zero-mask tunnel up (MB/s)', f(z.up), f(r.up), '', '', f(z.up / r.up, 2), '(wss:// default)'],
    ['zero-mask tunnel down (MB/s)', f(z.down), f(r.down), '', '', f(z.down / r.down, 2), ''],
    ['zero-mask CPU (s/GiB)', f(z.cpu, 2), f(r.cpu, 2), '', '', f(z.cpu / r.cpu, 2), ''],
    [
      '1-byte RTT p50 (µs)',
      f(t.p50),
      f(r.p50),
      f(wsr.p50),
      f(d.p50),
      `${t.p50 >= r.p50 ? '+' : ''}${f(t.p50 - r.p50)} µs`,
      '≤ +100 µs',
    ],
    ['1-byte RTT p99 (µs)', f(t.p99), f(r.p99), f(wsr.p99), f(d.p99), f(t.p99 / r.p99, 2), ''],
    ['RTT under bulk p50 (µs)', f(t.lp50), f(r.lp50), '', f(d.lp50), f(t.lp50 / r.lp50, 2), ''],
    ['RTT under bulk p99 (µs)', f(t.lp99), f(r.lp99), '', f(d.lp99), f(t.lp99 / r.lp99, 2), '≤ 1.50'],
    ['  (bulk rate meanwhile, MB/s)', f(t.bulk), f(r.bulk), '', f(d.bulk), '', ''],
    [
      'connect + 1st RTT p50 (µs)',
      f(t.connect50),
      f(r.connect50),
      '',
      f(d.connect50),
      f(t.connect50 / r.connect50, 2),
      '',
    ],
    [
      'openStream p50 (µs, API)',
      f(percentile(opens, 50)),
      '',
      f(percentile(floorOpens, 50)),
      '',
      '',
      '≤ 500',
    ],
    ['openStream p90 (µs, API)', f(percentile(opens, 90)), '', f(percentile(floorOpens, 90)), '', '', ''],
  ]
  const head = ['measurement', 'tunnel', 'relay chain', 'plain ws', 'direct', 'tunnel/relay', 'goal']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const line = (cols) =>
    cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  console.log(line(head))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows) console.log(line(row))
  const mb = (n) => (n / MiB).toFixed(0)
  console.log(
    `\n${idleStreams} idle tunnel streams: RSS forward ${mb(rss.forward)} MiB, server ${mb(rss.server)} MiB, agent ${mb(rss.agent)} MiB (goal ≤ 200 MB each);` +
      ` relay chain with ${IDLE_RELAY} idle connections: largest relay ${mb(relayRss)} MiB.`,
  )
  console.log(
    `(best of 2 interleaved rounds of ${BULK / MiB} MiB per direction; processes: target, 3 relays, ws, 2 ws open-floor, tunnel server, 2 agents, 2 forward clients; openStream after ${OPEN_WARMUP} warm-up opens; ${((Date.now() - started) / 1000).toFixed(1)} s)`,
  )
  setTimeout(() => process.exit(0), 200).unref()
}

if (!role) {
  main().catch((err) => {
    console.error(err)
    for (const c of children) c.kill()
    process.exit(1)
  })
}
