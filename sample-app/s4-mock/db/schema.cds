namespace s4;

/** Sales order headers of the mocked on-premise S/4HANA system. */
entity SalesOrders {
  key SalesOrder             : String(10);
      SalesOrderType         : String(4);
      SalesOrganization      : String(4);
      DistributionChannel    : String(2);
      OrganizationDivision   : String(2);
      SoldToParty            : String(10);
      PurchaseOrderByCustomer: String(35);
      TransactionCurrency    : String(5);
      TotalNetAmount         : Decimal(16, 3);
      CreationDate           : Date;
      OverallSDProcessStatus : String(1);
      to_Item                : Association to many SalesOrderItems
                                 on to_Item.SalesOrder = SalesOrder;
}

/** Sales order items. */
entity SalesOrderItems {
  key SalesOrder            : String(10);
  key SalesOrderItem        : String(6);
      Material              : String(40);
      SalesOrderItemText    : String(40);
      RequestedQuantity     : Decimal(15, 3);
      RequestedQuantityUnit : String(3);
      NetAmount             : Decimal(16, 3);
      TransactionCurrency   : String(5);
}
