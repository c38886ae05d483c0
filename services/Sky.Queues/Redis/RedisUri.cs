namespace Sky.Queues.Redis;

/// <summary>Turns a <c>redis://</c> URI into a StackExchange.Redis configuration string.</summary>
public static class RedisUri
{
    public static string ToConfiguration(Uri uri)
    {
        var port = uri.IsDefaultPort || uri.Port <= 0 ? 6379 : uri.Port;
        var parts = new List<string> { $"{uri.Host}:{port}", "abortConnect=false" };
        var userInfo = Uri.UnescapeDataString(uri.UserInfo);
        if (userInfo.Length > 0)
        {
            var colon = userInfo.IndexOf(':');
            var password = colon >= 0 ? userInfo[(colon + 1)..] : userInfo;
            var user = colon > 0 ? userInfo[..colon] : "";
            if (user.Length > 0) parts.Add($"user={user}");
            parts.Add($"password={password}");
        }
        var db = uri.AbsolutePath.Trim('/');
        if (db.Length > 0)
        {
            if (!int.TryParse(db, out var n) || n < 0) throw new FormatException($"redis database '{db}' is not a number");
            parts.Add($"defaultDatabase={n}");
        }
        return string.Join(',', parts);
    }
}
