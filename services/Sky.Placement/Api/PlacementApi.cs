namespace Sky.Placement.Api;

/// <summary>
/// gRPC adapter of sky.placement.v1.Placement. The RPCs are specified in protos/sky/placement/v1 and built by
/// issue #5; until an RPC is overridden here the generated base answers UNIMPLEMENTED, so a
/// client can tell "not built yet" from any real outcome.
/// </summary>
public sealed class PlacementApi : Sky.Placement.V1.Placement.PlacementBase
{
}
