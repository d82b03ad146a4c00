// TCP throughput and connection setup: a byte source on loopback read directly (baseline), through
// connectTcp (TcpStream over a direct route) and through openLocalPort (an extra local hop, the
// `cf ssh -L` shape). Bounded: fixed sizes and counts, median of rounds, exits by itself.
// Usage: npm run build && node bench/tcp.bench.js [--mb 128] [--rounds 5] [--parallel 8] [--connects 300]
'use strict'
const net = require('node:net')
const path = require('node:path')
const { arg, median, printColumns, startChild } = require('./lib/common')

const MB = arg('mb', 128)
const ROUNDS = arg('rounds', 5)
const PARALLEL = arg('parallel', 8)
const CONNECTS = arg('connects', 300)
const dist = path.resolve(__dirname, '..', 'dist')
const { connectTcp, openLocalPort } = require(path.join(dist, 'tcp', 'index.js'))
const { parseDestination } = require(path.join(dist, 'destination', 'parse.js'))

// The byte source runs in its own process, like a database server would: the bench process holds
// only what an app holds (the client and, for openLocalPort, the forwarder).
const SOURCE = `
const { spawn } = require('node:child_process')
const net = require('node:net')
const CHUNK = Buffer.alloc(64 * 1024, 0x61)
let bytes = 0
process.on('message', (m) => { bytes = m; process.send('ok') })
const server = net.createServer((socket) => {
  socket.on('error', () => undefined)
  let left = bytes
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length)
      left -= n
      if (!socket.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return socket.once('drain', pump)
    }
    socket.end()
  }
  pump()
})
server.listen(0, '127.0.0.1', () => process.send(server.address().port))
`

/** Starts the source process; resolves with its port and a setter for bytes per connection. */
async function startSource() {
  const { child, message: port } = await startChild({ code: SOURCE })
  return {
    port,
    setBytes: (n) => new Promise((ok) => child.once('message', ok) && child.send(n)),
    close: () => child.kill(),
  }
}

/** Reads a stream to its end; resolves with the byte count. */
function drain(stream) {
  return new Promise((resolve, reject) => {
    let n = 0
    stream.on('data', (c) => {
      n += c.length
    })
    stream.once('end', () => {
      stream.destroy()
      resolve(n)
    })
    stream.once('error', reject)
  })
}

const plain = (port) =>
  new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s))
    s.once('error', reject)
  })

async function throughput(open, bytes, parallel) {
  const t = process.hrtime.bigint()
  const counts = await Promise.all(Array.from({ length: parallel }, async () => drain(await open())))
  const secs = Number(process.hrtime.bigint() - t) / 1e9
  const total = counts.reduce((a, b) => a + b, 0)
  if (total !== bytes * parallel) throw new Error(`lost bytes: ${total} of ${bytes * parallel}`)
  return total / 1024 / 1024 / secs
}

async function connectRate(open, count) {
  const t = process.hrtime.bigint()
  for (let i = 0; i < count; i++) await drain(await open())
  return count / (Number(process.hrtime.bigint() - t) / 1e9)
}

async function main() {
  const source = await startSource()
  const port = source.port
  const dest = parseDestination({
    Name: 'BENCH_SOURCE',
    Type: 'TCP',
    Address: `127.0.0.1:${port}`,
    ProxyType: 'Internet',
  })
  const local = await openLocalPort(dest, { maxConnections: 64 })
  const ways = {
    direct: () => plain(port),
    connectTcp: () => connectTcp(dest),
    openLocalPort: () => plain(local.port),
  }
  const rows = []
  const measure = async (label, unit, fn) => {
    const results = { direct: [], connectTcp: [], openLocalPort: [] }
    // Alternate the ways inside each round so drift on a shared machine hits all of them alike.
    for (let r = 0; r < ROUNDS; r++)
      for (const [way, open] of Object.entries(ways)) results[way].push(await fn(open))
    const base = median(results.direct)
    for (const way of ['connectTcp', 'openLocalPort']) {
      const ours = median(results[way])
      rows.push([
        label,
        way,
        `${base.toFixed(0)} ${unit}`,
        `${ours.toFixed(0)} ${unit}`,
        (ours / base).toFixed(2),
      ])
    }
  }
  const bytes = MB * 1024 * 1024
  await source.setBytes(bytes)
  await measure(`1 stream × ${MB} MiB`, 'MiB/s', (open) => throughput(open, bytes, 1))
  const each = Math.max(1, Math.floor(MB / PARALLEL)) * 1024 * 1024
  await source.setBytes(each)
  await measure(`${PARALLEL} streams × ${each / 1024 / 1024} MiB`, 'MiB/s', (open) =>
    throughput(open, each, PARALLEL),
  )
  await source.setBytes(1)
  await measure(`${CONNECTS} sequential connects`, 'conn/s', (open) => connectRate(open, CONNECTS))
  await local.close()
  source.close()

  const head = ['scenario', 'way', 'direct socket (baseline)', 'ours', 'ratio ours/direct']
  console.log(`TCP through cap-connectivity vs a direct socket (loopback, median of ${ROUNDS} rounds)\n`)
  printColumns([head, ...rows])
  console.log(
    '\nratio > 1 means faster than the direct socket; openLocalPort adds one loopback hop by design.',
  )
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
