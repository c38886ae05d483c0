namespace Sky.Directory.Api;

/// <summary>
/// gRPC adapter of sky.directory.v1.Directory. The RPCs are specified in protos/sky/directory/v1 and built by
/// issue #3; until an RPC is overridden here the generated base answers UNIMPLEMENTED, so a
/// client can tell "not built yet" from any real outcome.
/// </summary>
public sealed class DirectoryApi : Sky.Directory.V1.Directory.DirectoryBase
{
}
