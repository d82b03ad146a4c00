/**
 * Sample app server: CAP's default server plus a small JSON endpoint for the page, showing the
 * connectivity path (route, agent/location reachability, requests served). No secrets in it.
 */
const cds = require('@sap/cds')

cds.on('bootstrap', (app) => {
  // CAP's own middlewares first (context, auth), so the endpoint has the same logon as the services.
  app.get('/connectivity/status', ...cds.middlewares.before, async (req, res, next) => {
    try {
      const { connectivityStatus, probeDestination } = require('cap-connectivity/cap')
      const status = connectivityStatus()
      const name = cds.requires.API_SALES_ORDER_SRV?.credentials?.destination
      const probe = name ? await probeDestination(name, { timeoutMs: 3000 }) : undefined
      const user = cds.context?.user
      if (!user || user._is_anonymous) return res.status(401).set('www-authenticate', 'Basic realm="Users"').end()
      res.set('cache-control', 'no-store').json({ ...status, destination: probe, user: user.id })
    } catch (err) {
      next(err)
    }
  })
})

// When started by the demo orchestrator (scripts/demo.js) report the port, which may be dynamic.
cds.on('listening', ({ server }) => {
  if (process.send) process.send({ type: 'listening', port: server.address().port })
})

module.exports = cds.server
