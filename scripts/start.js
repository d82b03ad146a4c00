#!/usr/bin/env node
// `npm start`: the sample's whole connectivity path on this machine — S/4 mock (the on-premise
// system), tunnel server, tunnel agent (allowlist: the OData path only) and the CAP sample app on
// port 4004 (PORT overrides). Ctrl-C stops everything, children included, within 10 s.
const { existsSync } = require('node:fs')
const path = require('node:path')

const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  console.error(
    `Node ${process.versions.node} found; @sap/cds 10 needs Node 22+. Run "npm start" (it uses the "node" devDependency) or install Node 22.`,
  )
  process.exit(1)
}
const root = path.resolve(__dirname, '..')
if (!existsSync(path.join(root, 'dist', 'tunnel', 'index.js'))) {
  console.error('dist/ is missing: run "npm install" (or "npm run build") first.')
  process.exit(1)
}

const { startDemo } = require('../sample-app/scripts/demo.js')
const port = process.env.PORT === undefined ? 4004 : Number(process.env.PORT)
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got "${process.env.PORT}"`)
  process.exit(1)
}

let demo
let stopping = false
async function shutdown(signal) {
  if (stopping) return
  stopping = true
  console.log(`\n${signal}: stopping the CAP app, the agent, the tunnel server and the S/4 mock …`)
  // Hard deadline: whatever happens, this process is gone within 10 s.
  setTimeout(() => {
    console.error('Shutdown took too long; exiting.')
    process.exit(1)
  }, 9000).unref()
  try {
    await demo?.stop()
  } finally {
    process.exit(0)
  }
}
process.on('SIGINT', () => shutdown('SIGINT'))
process.on('SIGTERM', () => shutdown('SIGTERM'))

startDemo({
  port,
  silent: false,
  mockLog: (line) => {
    if (line.includes('[s4-mock]')) console.log(line)
  },
})
  .then((d) => {
    demo = d
    if (stopping) return d.stop()
    const u = d.url
    console.log(`
cap-connectivity demo is running — CAP → tunnel server (${d.tunnelUrl}) → agent (location "${d.location}") → S/4 mock

  Page:         ${u}/
  Sales orders: ${u}/odata/v4/sales/SalesOrders?$top=5
  Top orders:   ${u}/odata/v4/sales/getTopOrders(top=3,currency='AED')
  Status:       ${u}/connectivity/status

  Log in as alice (empty password), e.g. curl -u alice: "${u}/odata/v4/sales/SalesOrders?\\$top=5"
  The S/4 mock logs each request with the user the agent propagated. Ctrl-C stops everything.
`)
  })
  .catch((err) => {
    console.error(`Demo failed to start: ${err.message}`)
    process.exit(1)
  })
