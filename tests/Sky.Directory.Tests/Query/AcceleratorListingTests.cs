using Sky.Common.V1;
using Sky.Directory.Query;
using Sky.Directory.V1;
using static Sky.Directory.Tests.Query.TestOffers;

namespace Sky.Directory.Tests.Query;

public sealed class AcceleratorListingTests
{
    private static readonly OfferIndex Offers = BuildIndex();

    private static OfferIndex BuildIndex()
    {
        var twoModels = Compute("mixed", provider: "gcp", region: "us-central1", instanceType: "mixed-node", price: 5m, gpu: "A100", gpuCount: 2);
        twoModels.Hardware.Accelerators.Add(new Accelerator { Name = "T4", Count = 1 });
        var service = Service("svc", price: 0.01m);
        service.Hardware = new Hardware { Accelerators = { new Accelerator { Name = "A100", Count = 8 } } };
        return Index(
            Compute("p4d-az1", region: "us-east-1", zone: "use1-az1", instanceType: "p4d.24xlarge", price: 32.77m, spot: 12m, gpu: "A100", gpuCount: 8),
            Compute("p4d-az2", region: "us-east-1", zone: "use1-az2", instanceType: "p4d.24xlarge", price: 30m, gpu: "A100", gpuCount: 8),
            Compute("p4d-out", region: "us-east-1", zone: "use1-az3", instanceType: "p4d.24xlarge", price: 20m, gpu: "A100", gpuCount: 8, availability: Availability.Unavailable),
            Compute("p4d-limited", region: "us-east-1", zone: "use1-az4", instanceType: "p4d.24xlarge", price: 31m, gpu: "A100", gpuCount: 8, availability: Availability.Limited),
            Compute("p4d-west", region: "us-west-2", instanceType: "p4d.24xlarge", price: 32.77m, gpu: "A100", gpuCount: 8),
            Compute("a2-1", provider: "gcp", region: "us-central1", instanceType: "a2-highgpu-1g", price: 3.67m, gpu: "A100", gpuCount: 1),
            Compute("a2-8", provider: "gcp", region: "us-central1", instanceType: "a2-highgpu-8g", price: 29.39m, gpu: "A100", gpuCount: 8),
            Compute("nd-east", provider: "azure", region: "eastus", instanceType: "Standard_ND96isr_H100_v5", price: 98.32m, gpu: "H100", gpuCount: 8),
            Compute("nd-west", provider: "azure", region: "westus", instanceType: "Standard_ND96isr_H100_v5", gpu: "H100", gpuCount: 8),
            Compute("cpu", price: 0.01m),
            twoModels,
            service);
    }

    private static List<string> Rows(ListAcceleratorsRequest request) =>
        [.. AcceleratorListing.Execute(Offers, request).Rows.Select(r => $"{r.Accelerator.Name}:{r.Accelerator.Count}/{r.Location.Provider}/{r.Location.Region}/{r.OfferId}")];

    [Fact]
    public void Lists_the_cheapest_available_compute_offer_per_model_count_provider_and_region()
    {
        Assert.Equal(
            [
                "A100:1/gcp/us-central1/a2-1",
                "A100:2/gcp/us-central1/mixed",
                "A100:8/gcp/us-central1/a2-8",
                "A100:8/aws/us-east-1/p4d-az2",
                "A100:8/aws/us-west-2/p4d-west",
                "H100:8/azure/eastus/nd-east",
                "H100:8/azure/westus/nd-west",
                "T4:1/gcp/us-central1/mixed",
            ],
            Rows(new ListAcceleratorsRequest()));
    }

    [Fact]
    public void A_row_carries_the_offer_it_names()
    {
        var row = AcceleratorListing.Execute(Offers, new ListAcceleratorsRequest { Name = "a100", Count = 8, Location = new Location { Provider = "aws", Region = "us-east-1" } })
            .Rows.Single();
        var offer = Offers.Get("p4d-az2")!.Offer;
        Assert.Equal(new Accelerator { Name = "A100", Count = 8 }, row.Accelerator);
        Assert.Equal(new Location { Provider = "aws", Region = "us-east-1" }, row.Location);
        Assert.Equal("p4d.24xlarge", row.InstanceType);
        Assert.Equal(offer.Hardware, row.Hardware);
        Assert.Equal(offer.Price, row.Price);
    }

    [Fact]
    public void Filters_by_name_count_provider_and_region()
    {
        Assert.Equal(["H100:8/azure/eastus/nd-east", "H100:8/azure/westus/nd-west"], Rows(new ListAcceleratorsRequest { Name = "h100" }));
        Assert.Equal(
            ["A100:8/gcp/us-central1/a2-8", "A100:8/aws/us-east-1/p4d-az2", "A100:8/aws/us-west-2/p4d-west"],
            Rows(new ListAcceleratorsRequest { Name = "A100", Count = 8 }));
        Assert.Equal(["A100:8/aws/us-east-1/p4d-az2", "A100:8/aws/us-west-2/p4d-west"], Rows(new ListAcceleratorsRequest { Location = new Location { Provider = "AWS" } }));
        Assert.Equal(
            ["A100:1/gcp/us-central1/a2-1", "A100:2/gcp/us-central1/mixed", "A100:8/gcp/us-central1/a2-8", "T4:1/gcp/us-central1/mixed"],
            Rows(new ListAcceleratorsRequest { Location = new Location { Provider = "gcp", Region = "us-central1" } }));
        Assert.Empty(Rows(new ListAcceleratorsRequest { Name = "TPU" }));
    }

    [Fact]
    public void Pages_through_the_rows()
    {
        var all = Rows(new ListAcceleratorsRequest());
        var paged = new List<string>();
        var token = "";
        do
        {
            var (rows, page) = AcceleratorListing.Execute(Offers, new ListAcceleratorsRequest { Page = new PageRequest { PageSize = 3, PageToken = token } });
            paged.AddRange(rows.Select(r => $"{r.Accelerator.Name}:{r.Accelerator.Count}/{r.Location.Provider}/{r.Location.Region}/{r.OfferId}"));
            token = page.NextPageToken;
        } while (token.Length > 0);
        Assert.Equal(all, paged);
        InvalidArgument(() => AcceleratorListing.Execute(Offers, new ListAcceleratorsRequest { Page = new PageRequest { PageToken = "junk" } }), "page.page_token");
    }
}
