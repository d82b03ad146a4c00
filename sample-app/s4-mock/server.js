/**
 * The S/4 mock's server: CAP serves API_SALES_ORDER_SRV, cov2ap translates OData V2 at the path a
 * real system uses, and a small middleware plays the system's logon: basic auth for a technical
 * user, or the user the connectivity agent propagated (header SAP-Connectivity-User by default).
 * Every request is logged with the user it ran as, so principal propagation is visible.
 */
const cds = require('@sap/cds')
const cov2ap = require('@cap-js-community/odata-v2-adapter')

const ODATA_PREFIX = '/sap/opu/odata/sap'
const techUser = process.env.S4_MOCK_USER || 'S4_TECH'
const techPassword = process.env.S4_MOCK_PASSWORD || 'mock-password'
const userHeader = (process.env.S4_MOCK_USER_HEADER || 'SAP-Connectivity-User').toLowerCase()
const MAX_LOG = 500
const log = []

function logon(req) {
  const propagated = req.headers[userHeader]
  if (typeof propagated === 'string' && propagated) return { user: propagated, via: 'propagated' }
  const auth = req.headers.authorization
  if (typeof auth === 'string' && /^basic /i.test(auth)) {
    const [user, ...rest] = Buffer.from(auth.slice(6), 'base64').toString().split(':')
    if (user === techUser && rest.join(':') === techPassword) return { user, via: 'basic' }
  }
  return undefined
}

cds.on('bootstrap', (app) => {
  app.get('/mock/health', (_req, res) => res.json({ ok: true }))
  // The request log is for tests and the demo only; the mock listens on loopback.
  app.get('/mock/requests', (_req, res) => res.json(log))
  app.use(ODATA_PREFIX, (req, res, next) => {
    const who = logon(req)
    const entry = { time: new Date().toISOString(), method: req.method, url: req.originalUrl, user: who?.user ?? null, via: who?.via ?? null }
    log.push(entry)
    if (log.length > MAX_LOG) log.shift()
    if (!who) {
      console.log(`[s4-mock] 401 ${req.method} ${req.originalUrl} (no valid logon)`)
      res.set('www-authenticate', 'Basic realm="SAP NetWeaver Application Server"')
      return res.status(401).send('Logon failed')
    }
    console.log(`[s4-mock] ${req.method} ${req.originalUrl} as ${who.user} (${who.via})`)
    // cds 10.1 + cov2ap 1.15 answer $metadata with 500 for "Accept-Language: *"; a real system does not.
    if (req.headers['accept-language'] === '*') delete req.headers['accept-language']
    next()
  })
  app.use(cov2ap({ path: ODATA_PREFIX.slice(1) }))
})

cds.on('listening', ({ server }) => {
  const { port } = server.address()
  if (process.send) process.send({ type: 'listening', port })
})

module.exports = cds.server
