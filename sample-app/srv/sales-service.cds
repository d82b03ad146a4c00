using { API_SALES_ORDER_SRV as s4 } from './external/API_SALES_ORDER_SRV';

/** Sales orders read live from the (on-premise) S/4HANA system through cap-connectivity. */
@path: 'sales'
@requires: 'SalesViewer'
service SalesService {
  @readonly
  entity SalesOrders as projection on s4.A_SalesOrder {
    SalesOrder,
    SalesOrderType,
    SoldToParty,
    PurchaseOrderByCustomer,
    TransactionCurrency,
    TotalNetAmount,
    CreationDate,
    OverallSDProcessStatus
  };

  /** The `top` largest orders of `currency` by TotalNetAmount (defaults: 10, 'AED'). */
  function getTopOrders(top : Integer, currency : String) returns many SalesOrders;
}
