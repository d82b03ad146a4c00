const cds = require('@sap/cds')

/** Reads sales orders from S/4 through the remote service; no connectivity code here. */
class SalesService extends cds.ApplicationService {
  async init() {
    const s4 = await cds.connect.to('API_SALES_ORDER_SRV')

    this.on('READ', 'SalesOrders', (req) => s4.run(req.query))

    this.on('getTopOrders', (req) => {
      // Defaults live here (not in the CDS signature) so getTopOrders() with no arguments works.
      const top = req.data.top ?? 10
      const currency = req.data.currency ?? 'AED'
      if (!Number.isInteger(top) || top < 1 || top > 1000)
        return req.reject(400, 'top must be an integer from 1 to 1000')
      if (!/^[A-Z]{3,5}$/.test(currency)) return req.reject(400, 'currency must be an ISO code such as AED')
      const { SalesOrders } = this.entities
      return s4.run(
        SELECT.from(SalesOrders)
          .where({ TransactionCurrency: currency })
          .orderBy({ TotalNetAmount: 'desc' })
          .limit(top),
      )
    })

    await super.init()
  }
}

module.exports = SalesService
