/**
 * Sample app server: CAP's default server plus a small JSON endpoint for the page, showing the
 * connectivity path (route, agent/location reachability, requests served). No secrets in it.
 */
const cds = require('@sap/cds')

cds.on('bootstrap', (app) => {
  app.get('/connectivity/status', async (req, res, next) => {
    try {
      const { connectivityStatus, probeDestination } = require('cap-connectivity/cap')
      const status = connectivityStatus()
      const name = cds.requires.API_SALES_ORDER_SRV?.credentials?.destination
      const probe = name ? await probeDestination(name, { timeoutMs: 3000 }) : undefined
      res.set('cache-control', 'no-store').json({ ...status, destination: probe, user: req.user?.id })
    } catch (err) {
      next(err)
    }
  })
})

module.exports = cds.server
