using Google.Rpc;
using Grpc.Core;

namespace Sky.Naming.Tests;

/// <summary>Assertions on the errors the naming service raises: status code and google.rpc details.</summary>
internal static class NamingAssert
{
    public static async Task<RpcException> FailsAsync(StatusCode code, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(ex.StatusCode == code, $"expected {code}, got {ex.StatusCode}: {ex.Status.Detail}");
        return ex;
    }

    public static RpcException Fails(StatusCode code, Action call)
    {
        var ex = Assert.Throws<RpcException>(call);
        Assert.True(ex.StatusCode == code, $"expected {code}, got {ex.StatusCode}: {ex.Status.Detail}");
        return ex;
    }

    /// <summary>The BadRequest field violation for <paramref name="field"/> (exactly one).</summary>
    public static BadRequest.Types.FieldViolation Violation(RpcException ex, string field)
    {
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var badRequest = ex.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        var matching = badRequest.FieldViolations.Where(v => v.Field == field).ToList();
        Assert.True(matching.Count == 1,
            $"expected one violation of '{field}', got: {string.Join("; ", badRequest.FieldViolations.Select(v => $"{v.Field}: {v.Description}"))}");
        return matching[0];
    }

    /// <summary>The field violation for <paramref name="field"/> names the 0-based offset <paramref name="position"/>.</summary>
    public static void ViolationAt(RpcException ex, string field, int position) =>
        Assert.StartsWith($"at {position}: ", Violation(ex, field).Description);
}
