using Sky.Testing;
using Sky.Directory.Catalog;
using Sky.Directory.Domain;

namespace Sky.Directory.Tests.Catalog;

/// <summary>What the catalogs produce is what the directory accepts: every offer passes the engine's validation.</summary>
public sealed class CatalogOfferValidationTests
{
    [Fact]
    public void Every_built_in_offer_passes_offer_validation()
    {
        foreach (var offer in BuiltinCatalog.Offers) OfferValidation.Validate(offer, "USD");
    }

    [SkippableTheory]
    [InlineData("aws")]
    [InlineData("gcp")]
    [InlineData("azure")]
    [InlineData("lambda")]
    public void Every_offer_read_from_the_real_catalogs_passes_offer_validation(string provider)
    {
        using var reader = new StreamReader(SharedData.Require($"catalogs/skypilot/{provider}/vms.csv"));
        foreach (var offer in SkyPilotCatalog.Read(reader, provider).Offers) OfferValidation.Validate(offer, "USD");
    }
}
