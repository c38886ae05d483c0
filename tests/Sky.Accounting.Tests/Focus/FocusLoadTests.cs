using Sky.Accounting.Focus;

namespace Sky.Accounting.Tests.Focus;

/// <summary>The bench load on a small scale: it exports every row and its BilledCost total matches the ledger (it checks itself).</summary>
public sealed class FocusLoadTests
{
    [Fact]
    public async Task The_load_exports_every_row_and_measures_the_export()
    {
        var result = await FocusLoad.RunAsync(5_000);

        Assert.Equal(5_000, result.Rows);
        Assert.True(result.Bytes > 5_000 * 300, $"{result.Bytes} bytes for 5000 rows");
        Assert.True(result.RowsPerSecond > 0);
        Assert.True(result.ExportAllocatedBytes > 0);
        Assert.True(decimal.Parse(result.BilledCost, System.Globalization.CultureInfo.InvariantCulture) > 0);
    }
}
