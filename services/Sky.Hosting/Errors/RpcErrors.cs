using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Sky.Hosting.Errors;

/// <summary>
/// The errors Sky.Mesh services raise: a gRPC status that means what it says, with
/// <c>google.rpc</c> details a client can act on (BadRequest field violations for INVALID_ARGUMENT).
/// </summary>
public static class RpcErrors
{
    public static RpcException InvalidArgument(string field, string description) =>
        InvalidArgument((field, description));

    public static RpcException InvalidArgument(params (string Field, string Description)[] violations)
    {
        var badRequest = new BadRequest();
        foreach (var (field, description) in violations)
            badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = field, Description = description });
        var message = string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}"));
        return Build(Code.InvalidArgument, message, badRequest);
    }

    /// <summary>A value valid in itself but past what exists now (a revision after the current one): retrying later may succeed.</summary>
    public static RpcException OutOfRange(string field, string description) =>
        Build(Code.OutOfRange, $"{field}: {description}",
            new BadRequest { FieldViolations = { new BadRequest.Types.FieldViolation { Field = field, Description = description } } });

    public static RpcException Unauthenticated(string message) =>
        Build(Code.Unauthenticated, message, new ErrorInfo { Reason = "API_KEY_INVALID", Domain = "sky.mesh" });

    public static RpcException PermissionDenied(string message) =>
        Build(Code.PermissionDenied, message, new ErrorInfo { Reason = "ACCESS_DENIED", Domain = "sky.mesh" });

    public static RpcException NotFound(string resourceType, string resourceName) =>
        Build(Code.NotFound, $"{resourceType} '{resourceName}' not found",
            new ResourceInfo { ResourceType = resourceType, ResourceName = resourceName });

    public static RpcException AlreadyExists(string resourceType, string resourceName) =>
        Build(Code.AlreadyExists, $"{resourceType} '{resourceName}' already exists",
            new ResourceInfo { ResourceType = resourceType, ResourceName = resourceName });

    public static RpcException Aborted(string message) => Build(Code.Aborted, message);

    public static RpcException FailedPrecondition(string type, string subject, string description) =>
        Build(Code.FailedPrecondition, description,
            new PreconditionFailure { Violations = { new PreconditionFailure.Types.Violation { Type = type, Subject = subject, Description = description } } });

    public static RpcException Unavailable(string message) => Build(Code.Unavailable, message);

    private static RpcException Build(Code code, string message, params Google.Protobuf.IMessage[] details)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        foreach (var detail in details) status.Details.Add(Any.Pack(detail));
        return status.ToRpcException();
    }
}
