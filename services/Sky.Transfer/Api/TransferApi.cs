namespace Sky.Transfer.Api;

/// <summary>
/// gRPC adapter of sky.transfer.v1.Transfer. The RPCs are specified in protos/sky/transfer/v1 and built by
/// issue #6; until an RPC is overridden here the generated base answers UNIMPLEMENTED, so a
/// client can tell "not built yet" from any real outcome.
/// </summary>
public sealed class TransferApi : Sky.Transfer.V1.Transfer.TransferBase
{
}
