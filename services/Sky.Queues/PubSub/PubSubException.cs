using System.Net;
using System.Text.Json;

namespace Sky.Queues.PubSub;

/// <summary>A Pub/Sub call answered with an error: Google's message, its HTTP status and its status name (e.g. NOT_FOUND).</summary>
public sealed class PubSubException(string message, HttpStatusCode statusCode, string? status) : Exception(message)
{
    public HttpStatusCode StatusCode { get; } = statusCode;

    /// <summary>The google.rpc.Code name Google returned (NOT_FOUND, INVALID_ARGUMENT...), when it returned one.</summary>
    public string? Status { get; } = status;

    /// <summary>Reads Google's error body (<c>{"error":{"code":..,"message":..,"status":..}}</c>), or quotes the text when it is not that.</summary>
    internal static PubSubException From(string operation, HttpStatusCode statusCode, string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object)
            {
                var status = error.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
                var text = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                return new PubSubException($"Pub/Sub {operation} failed: {status ?? ((int)statusCode).ToString(System.Globalization.CultureInfo.InvariantCulture)}: {text}",
                    statusCode, status);
            }
        }
        catch (JsonException) { }
        var quoted = body.Length <= 500 ? body : body[..500] + "...";
        return new PubSubException($"Pub/Sub {operation} failed: HTTP {(int)statusCode}: {quoted}", statusCode, null);
    }
}
