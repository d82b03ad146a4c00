/* A realistic subset of SAP's API_SALES_ORDER_SRV (OData V2), in the shape `cds import` produces
   from the system's $metadata. Only the fields this app uses, plus the items navigation. */
@cds.external : true
@m.IsDefaultEntityContainer : 'true'
@sap.message.scope.supported : 'true'
@sap.supported.formats : 'atom json xlsx'
service API_SALES_ORDER_SRV {
  @cds.external : true
  @cds.persistence.skip : true
  @sap.creatable : 'false'
  @sap.updatable : 'false'
  @sap.deletable : 'false'
  @sap.label : 'Sales Order Header'
  entity A_SalesOrder {
        @sap.display.format : 'UpperCase'
        @sap.label : 'Sales Order'
    key SalesOrder              : String(10) not null;
        @sap.label : 'Sales Document Type'
        SalesOrderType          : String(4);
        @sap.label : 'Sales Organization'
        SalesOrganization       : String(4);
        @sap.label : 'Distribution Channel'
        DistributionChannel     : String(2);
        @sap.label : 'Division'
        OrganizationDivision    : String(2);
        @sap.label : 'Sold-To Party'
        SoldToParty             : String(10);
        @sap.label : 'Customer Reference'
        PurchaseOrderByCustomer : String(35);
        @sap.label : 'Document Currency'
        @sap.semantics : 'currency-code'
        TransactionCurrency     : String(5);
        @sap.unit : 'TransactionCurrency'
        @sap.label : 'Net Value'
        TotalNetAmount          : Decimal(16, 3);
        @sap.display.format : 'Date'
        @sap.label : 'Created On'
        CreationDate            : Date;
        @sap.label : 'Overall Status'
        OverallSDProcessStatus  : String(1);
        to_Item                 : Association to many A_SalesOrderItem on to_Item.SalesOrder = SalesOrder;
  };

  @cds.external : true
  @cds.persistence.skip : true
  @sap.creatable : 'false'
  @sap.updatable : 'false'
  @sap.deletable : 'false'
  @sap.label : 'Sales Order Item'
  entity A_SalesOrderItem {
        @sap.label : 'Sales Order'
    key SalesOrder            : String(10) not null;
        @sap.label : 'Sales Order Item'
    key SalesOrderItem        : String(6) not null;
        @sap.label : 'Material'
        Material              : String(40);
        @sap.label : 'Item Description'
        SalesOrderItemText    : String(40);
        @sap.unit : 'RequestedQuantityUnit'
        @sap.label : 'Requested Quantity'
        RequestedQuantity     : Decimal(15, 3);
        @sap.semantics : 'unit-of-measure'
        RequestedQuantityUnit : String(3);
        @sap.unit : 'TransactionCurrency'
        @sap.label : 'Net Value'
        NetAmount             : Decimal(16, 3);
        @sap.semantics : 'currency-code'
        TransactionCurrency   : String(5);
  };
}
