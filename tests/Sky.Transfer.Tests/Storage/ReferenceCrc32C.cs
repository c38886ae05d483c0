namespace Sky.Transfer.Tests.Storage;

/// <summary>
/// CRC-32C from its definition: a byte table built bit by bit from the reflected polynomial, one byte at a time.
/// Plain and obviously right, sharing no code with the production <c>Crc32C</c>, so the tests and the GCS fake check
/// it against something independent.
/// </summary>
internal static class ReferenceCrc32C
{
    private static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var bit = 0; bit < 8; bit++) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        return c;
    }).ToArray();

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    /// <summary>Big-endian bytes, base64: how GCS writes a crc32c.</summary>
    public static string Base64(ReadOnlySpan<byte> data)
    {
        var crc = Compute(data);
        return Convert.ToBase64String([(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc]);
    }
}
