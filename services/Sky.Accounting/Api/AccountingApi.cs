namespace Sky.Accounting.Api;

/// <summary>
/// gRPC adapter of sky.accounting.v1.Accounting. The RPCs are specified in protos/sky/accounting/v1 and built by
/// issue #7; until an RPC is overridden here the generated base answers UNIMPLEMENTED, so a
/// client can tell "not built yet" from any real outcome.
/// </summary>
public sealed class AccountingApi : Sky.Accounting.V1.Accounting.AccountingBase
{
}
