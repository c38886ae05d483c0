namespace Sky.Naming.Api;

/// <summary>
/// gRPC adapter of sky.naming.v1.Naming. The RPCs are specified in protos/sky/naming/v1 and built by
/// issue #3; until an RPC is overridden here the generated base answers UNIMPLEMENTED, so a
/// client can tell "not built yet" from any real outcome.
/// </summary>
public sealed class NamingApi : Sky.Naming.V1.Naming.NamingBase
{
}
