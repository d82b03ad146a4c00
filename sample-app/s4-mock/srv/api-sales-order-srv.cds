using { s4 } from '../db/schema';

/**
 * A subset of SAP's API_SALES_ORDER_SRV. cov2ap serves it as OData V2 at
 * /sap/opu/odata/sap/API_SALES_ORDER_SRV, the path of the real system.
 */
@path: 'API_SALES_ORDER_SRV'
service API_SALES_ORDER_SRV {
  entity A_SalesOrder     as projection on s4.SalesOrders {
    *,
    to_Item : redirected to A_SalesOrderItem
  };
  entity A_SalesOrderItem as projection on s4.SalesOrderItems;
}
