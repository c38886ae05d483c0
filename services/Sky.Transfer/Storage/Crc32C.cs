using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using ArmCrc32 = System.Runtime.Intrinsics.Arm.Crc32;

[assembly: InternalsVisibleTo("Sky.Transfer.Tests")]

namespace Sky.Transfer.Storage;

/// <summary>
/// CRC-32C (Castagnoli; reflected polynomial 0x82F63B78, initial value and final XOR all ones), the checksum GCS and
/// S3 report. System.IO.Hashing has only the IEEE CRC-32, so this uses the CPU's CRC32 instruction (SSE4.2, ARMv8)
/// and a slicing-by-8 table where there is none. <see cref="Combine"/> joins the CRCs of two adjacent pieces without
/// reading them again, which is how a multipart upload's whole-object CRC is known from its parts' CRCs.
/// </summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78;
    private static readonly uint[] Table = BuildTable();
    private static readonly uint[] PowersOfX = BuildPowers();

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>The CRC-32C of the bytes <paramref name="crc"/> was computed over followed by <paramref name="data"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var register = ~crc;
        if (Sse42.X64.IsSupported) register = UpdateSse42(register, data);
        else if (ArmCrc32.Arm64.IsSupported) register = UpdateArm64(register, data);
        else register = UpdateTable(register, data);
        return ~register;
    }

    /// <summary>
    /// The CRC-32C of A followed by B, given CRC(A), CRC(B) and the length of B (zlib's crc32_combine, for this
    /// polynomial): multiplies CRC(A) by x^(8·lengthB) modulo the polynomial, in O(log lengthB).
    /// </summary>
    public static uint Combine(uint crcA, uint crcB, long lengthB)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lengthB);
        return MultiplyModP(PowerOfXModP(lengthB, 3), crcA) ^ crcB;
    }

    /// <summary>The portable path, also used to check the hardware paths in tests.</summary>
    internal static uint AppendPortable(uint crc, ReadOnlySpan<byte> data) => ~UpdateTable(~crc, data);

    private static uint UpdateSse42(uint register, ReadOnlySpan<byte> data)
    {
        ulong wide = register;
        while (data.Length >= 8)
        {
            wide = Sse42.X64.Crc32(wide, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        register = (uint)wide;
        foreach (var b in data) register = Sse42.Crc32(register, b);
        return register;
    }

    private static uint UpdateArm64(uint register, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            register = ArmCrc32.Arm64.ComputeCrc32C(register, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data) register = ArmCrc32.ComputeCrc32C(register, b);
        return register;
    }

    private static uint UpdateTable(uint register, ReadOnlySpan<byte> data)
    {
        var table = Table;
        while (data.Length >= 8)
        {
            var low = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ register;
            var high = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            register = table[(7 * 256) + (low & 0xFF)] ^ table[(6 * 256) + ((low >> 8) & 0xFF)]
                ^ table[(5 * 256) + ((low >> 16) & 0xFF)] ^ table[(4 * 256) + (low >> 24)]
                ^ table[(3 * 256) + (high & 0xFF)] ^ table[(2 * 256) + ((high >> 8) & 0xFF)]
                ^ table[256 + ((high >> 16) & 0xFF)] ^ table[high >> 24];
            data = data[8..];
        }
        foreach (var b in data) register = table[(register ^ b) & 0xFF] ^ (register >> 8);
        return register;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            table[i] = c;
        }
        for (var slice = 1; slice < 8; slice++)
            for (var i = 0; i < 256; i++)
                table[(slice * 256) + i] = (table[((slice - 1) * 256) + i] >> 8) ^ table[table[((slice - 1) * 256) + i] & 0xFF];
        return table;
    }

    /// <summary>a·b modulo the polynomial, both in the reflected bit order the CRC uses (x^0 is the top bit).</summary>
    private static uint MultiplyModP(uint a, uint b)
    {
        uint m = 1u << 31, product = 0;
        while (true)
        {
            if ((a & m) != 0)
            {
                product ^= b;
                if ((a & (m - 1)) == 0) return product;
            }
            m >>= 1;
            b = (b & 1) != 0 ? (b >> 1) ^ Polynomial : b >> 1;
        }
    }

    /// <summary>x^(n·2^k) modulo the polynomial.</summary>
    private static uint PowerOfXModP(long n, int k)
    {
        var p = 1u << 31; // x^0
        while (n != 0)
        {
            if ((n & 1) != 0) p = MultiplyModP(PowersOfX[k & 31], p);
            n >>= 1;
            k++;
        }
        return p;
    }

    /// <summary>x^(2^k) modulo the polynomial for k = 0..31.</summary>
    private static uint[] BuildPowers()
    {
        var powers = new uint[32];
        var p = 1u << 30; // x^1
        powers[0] = p;
        for (var k = 1; k < 32; k++) powers[k] = p = MultiplyModP(p, p);
        return powers;
    }
}
