using Sky.Directory.V1;

namespace Sky.Directory.Catalog;

/// <summary>One row of a catalog file that was skipped, and why.</summary>
/// <param name="Line">1-based line number in the file (the header is line 1).</param>
/// <param name="Message">What is wrong with the row.</param>
public sealed record CatalogIssue(long Line, string Message);

/// <summary>The offers read from one catalog file.</summary>
/// <param name="Offers">Compute offerings in file order, one per key (a later row with the same key replaces an earlier one).</param>
/// <param name="RowsSkipped">Rows skipped as malformed or not importable (GCP TPU rows, GCP GPU machines without a GPU price in their zone); GCP accelerator rows folded into their hosts are not skipped rows.</param>
/// <param name="Issues">The first 100 skipped rows by line number, with the reason.</param>
public sealed record CatalogReadResult(IReadOnlyList<Offer> Offers, int RowsSkipped, IReadOnlyList<CatalogIssue> Issues)
{
    /// <summary>How many issues a result keeps.</summary>
    public const int MaxIssues = 100;
}
