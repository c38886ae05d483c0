using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Sky.Accounting.V1;

namespace Sky.Accounting.Billing;

/// <summary>How long a billing period is.</summary>
public enum PeriodLength
{
    /// <summary>Calendar months in UTC, ids "YYYY-MM" (the default, as clouds bill).</summary>
    Monthly,
    /// <summary>Days in UTC, ids "YYYY-MM-DD" (short periods for tests and demos).</summary>
    Daily,
}

/// <summary>
/// Billing periods: which period a time falls in, its bounds, the next one. Usage belongs to the period its end falls in
/// (a span crossing midnight of the last day is billed in the period it ended in, as the clouds do).
/// </summary>
public sealed class BillingCalendar(PeriodLength length = PeriodLength.Monthly)
{
    public PeriodLength Length { get; } = length;

    private string Format => Length == PeriodLength.Monthly ? "yyyy-MM" : "yyyy-MM-dd";

    /// <summary>The id of the period <paramref name="time"/> falls in.</summary>
    public string PeriodOf(DateTimeOffset time) => time.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    /// <summary>Start (inclusive) and end (exclusive) of a period.</summary>
    /// <exception cref="ArgumentException">The id is not a period of this calendar.</exception>
    public (DateTimeOffset Start, DateTimeOffset End) Bounds(string periodId)
    {
        if (!DateTime.TryParseExact(periodId, Format, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var start))
            throw new ArgumentException($"'{periodId}' is not a {Length.ToString().ToLowerInvariant()} billing period ({(Length == PeriodLength.Monthly ? "YYYY-MM" : "YYYY-MM-DD")})", nameof(periodId));
        var from = new DateTimeOffset(DateTime.SpecifyKind(start, DateTimeKind.Utc));
        return (from, Length == PeriodLength.Monthly ? from.AddMonths(1) : from.AddDays(1));
    }

    /// <summary>The period after <paramref name="periodId"/>.</summary>
    public string Next(string periodId) => PeriodOf(Bounds(periodId).End);

    /// <summary>The contract's form.</summary>
    public BillingPeriod ToProto(string periodId, bool closed, DateTimeOffset? closedAt = null)
    {
        var (start, end) = Bounds(periodId);
        var period = new BillingPeriod
        {
            PeriodId = periodId,
            Start = Timestamp.FromDateTimeOffset(start),
            End = Timestamp.FromDateTimeOffset(end),
            State = closed ? BillingPeriodState.Closed : BillingPeriodState.Open,
        };
        if (closedAt is { } at) period.ClosedAt = Timestamp.FromDateTimeOffset(at);
        return period;
    }
}
