// Destination lookup: cap-connectivity's getDestination (from dist) vs @sap-cloud-sdk/connectivity's
// getDestination, for the same destination from the `destinations` env var, in one process, with
// the same iteration count, in alternating rounds. Also: require time of dist/index.js vs the SDK.
// Usage: npm run build && node bench/destination-lookup.bench.js [--iterations 20000] [--rounds 5]
'use strict'
const { mkdtempSync, rmSync } = require('node:fs')
const { tmpdir } = require('node:os')
const path = require('node:path')
const { arg, median, printColumns, requireTime } = require('./lib/common')

const ITERATIONS = arg('iterations', 20_000)
const ROUNDS = arg('rounds', 5)
const root = path.resolve(__dirname, '..')

// Same destination for both libraries; no service binding, so neither goes to the network.
delete process.env.VCAP_SERVICES
delete process.env.SERVICE_BINDING_ROOT
delete process.env.CAP_CONNECTIVITY_DESTINATIONS
process.env.destinations = JSON.stringify([
  { name: 'OTHER', url: 'https://other.example.org' },
  {
    name: 'S4',
    url: 'https://s4.example.org/sap/opu/odata/sap',
    username: 'TECH',
    password: 'secret',
    authentication: 'BasicAuthentication',
    sapClient: '100',
  },
])

async function time(fn) {
  const t = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) await fn()
  return Number(process.hrtime.bigint() - t) / 1e6
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-dest-'))
  const ours = require(path.join(root, 'dist', 'index.js'))
  ours.configureDestinations({ root: dir }) // no destinations.json there: the env var is the source
  const sdk = require('@sap-cloud-sdk/connectivity')
  require('@sap-cloud-sdk/util').setGlobalLogLevel('error')

  const a = await ours.getDestination('S4')
  const b = await sdk.getDestination({ destinationName: 'S4' })
  if (
    a.url !== 'https://s4.example.org/sap/opu/odata/sap' ||
    b.url !== 'https://s4.example.org/sap/opu/odata/sap'
  ) {
    throw new Error('the two libraries resolved different destinations')
  }
  const oursFn = () => ours.getDestination('S4')
  const sdkFn = () => sdk.getDestination({ destinationName: 'S4' })
  await time(oursFn) // warm-up (JIT) of both
  await time(sdkFn)

  const oursMs = []
  const sdkMs = []
  for (let r = 0; r < ROUNDS; r++) {
    oursMs.push(await time(oursFn))
    sdkMs.push(await time(sdkFn))
  }
  rmSync(dir, { recursive: true, force: true })

  const o = median(oursMs)
  const s = median(sdkMs)
  const perCall = (ms) => `${((ms * 1000) / ITERATIONS).toFixed(2)} µs`
  const opsPerSec = (ms) => Math.round((ITERATIONS / ms) * 1000).toLocaleString('en-US')
  const rows = [
    ['lookup (env var, warm)', 'per call', 'calls/s', 'median of rounds'],
    ['cap-connectivity getDestination', perCall(o), opsPerSec(o), `${o.toFixed(1)} ms`],
    ['@sap-cloud-sdk getDestination', perCall(s), opsPerSec(s), `${s.toFixed(1)} ms`],
  ]
  console.log(
    `destination-lookup: ${ITERATIONS} sequential awaited calls × ${ROUNDS} rounds each, alternating\n`,
  )
  printColumns(rows)
  console.log(`\nratio: cap-connectivity is ${(s / o).toFixed(1)}× faster (goal ≥ 10×)\n`)

  const ourReq = requireTime('./dist/index.js', { cwd: root })
  const destReq = requireTime('./dist/destination/resolve.js', { cwd: root })
  const sdkReq = requireTime('@sap-cloud-sdk/connectivity', { cwd: root })
  console.log('require time (fresh process, median of 5)')
  console.log(`  cap-connectivity dist/index.js                ${ourReq.toFixed(1)} ms`)
  console.log(
    `  cap-connectivity dist/destination/resolve.js  ${destReq.toFixed(1)} ms   (destination layer alone)`,
  )
  console.log(
    `  @sap-cloud-sdk/connectivity                   ${sdkReq.toFixed(1)} ms   (SDK / ours: ${(sdkReq / ourReq).toFixed(1)}×)`,
  )
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
