using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Sky.Transfer.Storage;

/// <summary>The checksums object stores compute or verify.</summary>
public enum ChecksumAlgorithm
{
    /// <summary>CRC-32C: GCS on every object, S3's additional checksums; cheap enough to check every chunk.</summary>
    Crc32C,
    /// <summary>MD5: S3 Content-MD5 and single-part ETags, Azure Content-MD5, GCS on non-composite objects.</summary>
    Md5,
    /// <summary>SHA-256: S3's additional checksums; for callers who want a cryptographic digest.</summary>
    Sha256,
}

/// <summary>
/// One checksum value. Kept as lowercase hex so two checksums compare with <c>==</c> and print readably in an error;
/// <see cref="ToBase64"/> gives the form the stores' headers and JSON use. A CRC-32C is its 4 bytes big-endian, as
/// GCS and S3 encode it.
/// </summary>
public readonly record struct Checksum
{
    private Checksum(ChecksumAlgorithm algorithm, string hex)
    {
        Algorithm = algorithm;
        Hex = hex;
    }

    public ChecksumAlgorithm Algorithm { get; }

    /// <summary>The value as lowercase hex.</summary>
    public string Hex { get; }

    /// <summary>The value's length in bytes for <paramref name="algorithm"/>.</summary>
    public static int LengthOf(ChecksumAlgorithm algorithm) => algorithm switch
    {
        ChecksumAlgorithm.Crc32C => 4,
        ChecksumAlgorithm.Md5 => 16,
        ChecksumAlgorithm.Sha256 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown checksum algorithm"),
    };

    public static Checksum FromBytes(ChecksumAlgorithm algorithm, ReadOnlySpan<byte> value)
    {
        if (value.Length != LengthOf(algorithm))
            throw new ArgumentException($"a {Name(algorithm)} checksum is {LengthOf(algorithm)} bytes, not {value.Length}", nameof(value));
        return new Checksum(algorithm, Convert.ToHexStringLower(value));
    }

    /// <summary>Reads the base64 form (S3 and GCS headers and JSON, Azure Content-MD5).</summary>
    public static Checksum FromBase64(ChecksumAlgorithm algorithm, string base64)
    {
        ArgumentNullException.ThrowIfNull(base64);
        Span<byte> bytes = stackalloc byte[64];
        if (!Convert.TryFromBase64String(base64, bytes, out var written))
            throw new FormatException($"'{base64}' is not a base64 {Name(algorithm)} checksum");
        return FromBytes(algorithm, bytes[..written]);
    }

    /// <summary>Reads the hex form (S3 ETags).</summary>
    public static Checksum FromHex(ChecksumAlgorithm algorithm, string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length != 2 * LengthOf(algorithm) || !hex.All(char.IsAsciiHexDigit))
            throw new FormatException($"'{hex}' is not a hex {Name(algorithm)} checksum");
        return new Checksum(algorithm, hex.ToLowerInvariant());
    }

    public static Checksum FromCrc32C(uint crc)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, crc);
        return FromBytes(ChecksumAlgorithm.Crc32C, bytes);
    }

    /// <summary>The checksum of <paramref name="data"/>.</summary>
    public static Checksum Compute(ChecksumAlgorithm algorithm, ReadOnlySpan<byte> data) => algorithm switch
    {
        ChecksumAlgorithm.Crc32C => FromCrc32C(Crc32C.Compute(data)),
        ChecksumAlgorithm.Md5 => FromBytes(algorithm, MD5.HashData(data)),
        ChecksumAlgorithm.Sha256 => FromBytes(algorithm, SHA256.HashData(data)),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown checksum algorithm"),
    };

    public byte[] ToBytes() => Convert.FromHexString(Hex);

    public string ToBase64() => Convert.ToBase64String(ToBytes());

    /// <summary>The CRC-32C as a number (for <see cref="Crc32C.Combine"/>).</summary>
    public uint ToCrc32C()
    {
        if (Algorithm != ChecksumAlgorithm.Crc32C) throw new InvalidOperationException($"{this} is not a CRC-32C");
        return BinaryPrimitives.ReadUInt32BigEndian(ToBytes());
    }

    /// <summary>The algorithm's name as written in messages and configuration: crc32c, md5, sha256.</summary>
    public static string Name(ChecksumAlgorithm algorithm) => algorithm switch
    {
        ChecksumAlgorithm.Crc32C => "crc32c",
        ChecksumAlgorithm.Md5 => "md5",
        ChecksumAlgorithm.Sha256 => "sha256",
        _ => algorithm.ToString(),
    };

    public override string ToString() => $"{Name(Algorithm)}:{Hex}";
}

/// <summary>A checksum computed over data that arrives in pieces (a chunk read from a stream, an object's parts in order).</summary>
public sealed class RunningChecksum : IDisposable
{
    private readonly IncrementalHash? _hash;
    private uint _crc;

    public RunningChecksum(ChecksumAlgorithm algorithm)
    {
        Algorithm = algorithm;
        _hash = algorithm switch
        {
            ChecksumAlgorithm.Crc32C => null,
            ChecksumAlgorithm.Md5 => IncrementalHash.CreateHash(HashAlgorithmName.MD5),
            ChecksumAlgorithm.Sha256 => IncrementalHash.CreateHash(HashAlgorithmName.SHA256),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "unknown checksum algorithm"),
        };
    }

    public ChecksumAlgorithm Algorithm { get; }

    /// <summary>Bytes appended so far.</summary>
    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_hash is null) _crc = Crc32C.Append(_crc, data);
        else _hash.AppendData(data);
        Length += data.Length;
    }

    /// <summary>The checksum of everything appended so far; appending may continue.</summary>
    public Checksum Current()
    {
        if (_hash is null) return Checksum.FromCrc32C(_crc);
        Span<byte> digest = stackalloc byte[Checksum.LengthOf(Algorithm)];
        _hash.GetCurrentHash(digest);
        return Checksum.FromBytes(Algorithm, digest);
    }

    public void Dispose() => _hash?.Dispose();
}

/// <summary>Checks data against the checksums a caller expects, the same way in every adapter.</summary>
public static class ChecksumVerification
{
    /// <summary>
    /// Throws <see cref="ChecksumMismatchException"/> when <paramref name="data"/> does not match one of
    /// <paramref name="expected"/>; returns the checksums it computed (the expected ones, all verified).
    /// </summary>
    public static IReadOnlyList<Checksum> Verify(ObjectUri where, ReadOnlySpan<byte> data, IEnumerable<Checksum> expected)
    {
        var verified = new List<Checksum>();
        foreach (var want in expected)
        {
            var got = Checksum.Compute(want.Algorithm, data);
            if (got != want) throw new ChecksumMismatchException(where, want, got);
            verified.Add(got);
        }
        return verified;
    }

    /// <summary>The one checksum of <paramref name="algorithm"/> in <paramref name="checksums"/>, or null; two that differ are an error.</summary>
    public static Checksum? Find(IEnumerable<Checksum>? checksums, ChecksumAlgorithm algorithm)
    {
        Checksum? found = null;
        foreach (var c in checksums ?? [])
        {
            if (c.Algorithm != algorithm) continue;
            if (found is { } f && f != c) throw new ArgumentException($"two different {Checksum.Name(algorithm)} checksums given: {f} and {c}");
            found = c;
        }
        return found;
    }
}
