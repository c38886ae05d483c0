using System.Security.Cryptography;
using System.Text;
using Sky.Transfer.Storage;

namespace Sky.Transfer.Tests.Storage;

/// <summary>CRC-32C (hardware and portable paths, against published vectors and a bit-at-a-time reference), combining, and checksum values.</summary>
public sealed class ChecksumTests
{
    [Fact]
    public void Crc32c_matches_the_published_check_values()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));               // the CRC catalogue's check value
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));                 // RFC 3720 B.4: 32 bytes of zeros
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray())); // RFC 3720 B.4: 32 bytes of 0xFF
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Hardware_and_portable_paths_agree_with_the_reference_at_every_length_and_split()
    {
        var data = new byte[4099];
        new Random(70).NextBytes(data);
        foreach (var length in new[] { 0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099 })
        {
            var span = data.AsSpan(0, length);
            var expected = Checksum.FromCrc32C(ReferenceCrc32C.Compute(span));
            Assert.Equal(expected, Checksum.FromCrc32C(Crc32C.Compute(span)));
            Assert.Equal(expected, Checksum.FromCrc32C(Crc32C.AppendPortable(0, span)));
            var split = length / 3;
            Assert.Equal(expected, Checksum.FromCrc32C(Crc32C.Append(Crc32C.Append(0, span[..split]), span[split..])));
        }
    }

    [Fact]
    public void Combining_two_crcs_gives_the_crc_of_the_concatenation()
    {
        var data = new byte[100_000];
        new Random(71).NextBytes(data);
        foreach (var cut in new[] { 0, 1, 4096, 50_000, 99_999, 100_000 })
        {
            var a = Crc32C.Compute(data.AsSpan(0, cut));
            var b = Crc32C.Compute(data.AsSpan(cut));
            Assert.Equal(Crc32C.Compute(data), Crc32C.Combine(a, b, data.Length - cut));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Crc32C.Combine(1, 2, -1));
    }

    [Fact]
    public void Checksums_convert_between_hex_base64_and_bytes_and_say_what_is_wrong()
    {
        var md5 = Checksum.Compute(ChecksumAlgorithm.Md5, "abc"u8);
        Assert.Equal("900150983cd24fb0d6963f7d28e17f72", md5.Hex);
        Assert.Equal(md5, Checksum.FromBase64(ChecksumAlgorithm.Md5, md5.ToBase64()));
        Assert.Equal(md5, Checksum.FromHex(ChecksumAlgorithm.Md5, md5.Hex.ToUpperInvariant()));
        Assert.Equal("md5:900150983cd24fb0d6963f7d28e17f72", md5.ToString());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("abc"u8)), Checksum.Compute(ChecksumAlgorithm.Sha256, "abc"u8).Hex);
        Assert.Equal("e3069283", Checksum.Compute(ChecksumAlgorithm.Crc32C, "123456789"u8).Hex); // big-endian, as GCS and S3 encode it
        Assert.Equal(0xE3069283u, Checksum.FromHex(ChecksumAlgorithm.Crc32C, "e3069283").ToCrc32C());

        Assert.Throws<ArgumentException>(() => Checksum.FromBytes(ChecksumAlgorithm.Md5, new byte[4]));
        Assert.Throws<FormatException>(() => Checksum.FromHex(ChecksumAlgorithm.Crc32C, "xyz12345"));
        Assert.Throws<FormatException>(() => Checksum.FromBase64(ChecksumAlgorithm.Md5, "not base64!"));
        Assert.Throws<InvalidOperationException>(() => md5.ToCrc32C());
    }

    [Fact]
    public void A_running_checksum_over_pieces_equals_the_checksum_of_the_whole()
    {
        var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("the quick brown fox ", 1000)));
        foreach (var algorithm in Enum.GetValues<ChecksumAlgorithm>())
        {
            using var running = new RunningChecksum(algorithm);
            foreach (var piece in data.Chunk(777)) running.Append(piece);
            Assert.Equal(Checksum.Compute(algorithm, data), running.Current());
            Assert.Equal(data.Length, running.Length);
        }
    }

    [Fact]
    public void Verification_names_the_object_and_both_values()
    {
        var where = ObjectUri.Parse("s3://bkt/k");
        var wrong = Checksum.Compute(ChecksumAlgorithm.Md5, "other"u8);
        var e = Assert.Throws<ChecksumMismatchException>(() => ChecksumVerification.Verify(where, "data"u8, [wrong]));
        Assert.Equal((wrong, Checksum.Compute(ChecksumAlgorithm.Md5, "data"u8)), (e.Expected, e.Actual!.Value));
        Assert.Contains("s3://bkt/k", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ChecksumVerification.Find([wrong, Checksum.Compute(ChecksumAlgorithm.Md5, "x"u8)], ChecksumAlgorithm.Md5));
    }
}
