using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.V1;

namespace Sky.Accounting.Ledger;

/// <summary>
/// How <see cref="RedisLedger"/> stores a transaction: the protobuf encoding of this message, written and read by hand
/// (the ledger's storage format is not a contract, so it is not in protos/):
/// <code>
/// message LedgerRecord {
///   string idempotency_key = 1;
///   string period_id = 2;
///   repeated string entry_accounts = 3;                       // entry i is (entry_accounts[i], entry_amounts_nanos[i])
///   repeated sint64 entry_amounts_nanos = 4 [packed = false];
///   string corrects = 5;                                       // empty when it corrects nothing
///   sky.accounting.v1.RatedUsage usage = 6;
///   google.protobuf.Timestamp posted_at = 7;
///   fixed64 sequence = 8;                                      // appended by the posting script, which assigns it
/// }
/// </code>
/// Any protobuf library can read it with that schema.
/// </summary>
internal static class LedgerRecordCodec
{
    public static byte[] Encode(LedgerTransaction tx)
    {
        using var buffer = new MemoryStream(256);
        var output = new CodedOutputStream(buffer);
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteString(tx.IdempotencyKey);
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteString(tx.PeriodId);
        foreach (var e in tx.Entries)
        {
            output.WriteTag(3, WireFormat.WireType.LengthDelimited);
            output.WriteString(e.Account);
        }
        foreach (var e in tx.Entries)
        {
            output.WriteTag(4, WireFormat.WireType.Varint);
            output.WriteSInt64(e.AmountNanos);
        }
        if (tx.Corrects is { } corrects)
        {
            output.WriteTag(5, WireFormat.WireType.LengthDelimited);
            output.WriteString(corrects);
        }
        output.WriteTag(6, WireFormat.WireType.LengthDelimited);
        output.WriteMessage(tx.Usage);
        output.WriteTag(7, WireFormat.WireType.LengthDelimited);
        output.WriteMessage(Timestamp.FromDateTimeOffset(tx.PostedAt));
        if (tx.Sequence > 0)
        {
            output.WriteTag(8, WireFormat.WireType.Fixed64);
            output.WriteFixed64((ulong)tx.Sequence);
        }
        output.Flush();
        return buffer.ToArray();
    }

    public static LedgerTransaction Decode(byte[] bytes)
    {
        var input = new CodedInputStream(bytes);
        string key = "", period = "";
        string? corrects = null;
        var accounts = new List<string>(4);
        var amounts = new List<long>(4);
        var usage = new RatedUsage();
        var postedAt = new Timestamp();
        ulong sequence = 0;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: key = input.ReadString(); break;
                case 2: period = input.ReadString(); break;
                case 3: accounts.Add(input.ReadString()); break;
                case 4: amounts.Add(input.ReadSInt64()); break;
                case 5: corrects = input.ReadString(); break;
                case 6: input.ReadMessage(usage); break;
                case 7: input.ReadMessage(postedAt); break;
                case 8: sequence = input.ReadFixed64(); break;
                default: input.SkipLastField(); break;
            }
        }
        if (accounts.Count != amounts.Count)
            throw new InvalidDataException($"ledger record {key}: {accounts.Count} accounts but {amounts.Count} amounts");
        var entries = new LedgerEntry[accounts.Count];
        for (var i = 0; i < entries.Length; i++) entries[i] = new LedgerEntry(accounts[i], amounts[i]);
        return new LedgerTransaction
        {
            IdempotencyKey = key,
            PeriodId = period,
            Entries = entries,
            Corrects = corrects,
            Usage = usage,
            PostedAt = postedAt.ToDateTimeOffset(),
            Sequence = (long)sequence,
        };
    }
}
