using Sky.Directory.V1;
using Sky.Placement.Catalog;
using Sky.Placement.Engine;
using Sky.Placement.Tasks;

namespace Sky.Placement.Tests.Engine;

/// <summary>The candidate lists the planner builds are exactly the cheapest fitting offers of each zone, however they are read.</summary>
public sealed class JobPlannerCandidatesTests
{
    private static CatalogSnapshot RandomCatalog(int seed, int count)
    {
        var random = new Random(seed);
        var zones = new[] { ("aws", "us-east-1", "use1-az1"), ("aws", "us-east-1", "use1-az2"), ("gcp", "us-central1", "us-central1-a"), ("azure", "eastus", "") };
        var offers = new List<ComputeOffer>();
        for (var i = 0; i < count; i++)
        {
            var (provider, region, zone) = zones[random.Next(zones.Length)];
            var vcpus = new[] { 1, 2, 4, 8, 16, 32 }[random.Next(6)];
            var memory = vcpus * new[] { 1, 2, 4, 8 }[random.Next(4)];
            var gpu = random.Next(5) == 0;
            decimal price = Math.Round((decimal)random.NextDouble() * 3, 4) + 0.01m;
            offers.Add(new ComputeOffer($"o{i:D4}", provider, region, zone, $"t{i}", vcpus, memory, gpu ? "L4" : null, gpu ? 1 : 0,
                random.Next(8) == 0 ? "arm64" : "x86_64", price, random.Next(3) == 0 ? null : Math.Round(price / 3, 4),
                random.Next(20) == 0 ? Availability.Unavailable : Availability.Available, 1));
        }
        return new CatalogSnapshot(offers, [], [], 1);
    }

    [Theory]
    [InlineData("resources:\n  use_spot: true\n")]
    [InlineData("resources:\n  cpus: 4+\n")]
    [InlineData("resources:\n  cpus: 8\n  memory: 32+\n")]
    [InlineData("resources:\n  any_of:\n    - cpus: 2+\n    - cpus: 16+\n      use_spot: true\n")]
    [InlineData("resources:\n  accelerators: L4:1\n")]
    public void Each_zone_keeps_its_cheapest_fitting_offers(string yaml)
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var catalog = RandomCatalog(seed, 400);
            var task = TaskYaml.Parse(yaml).Tasks.Single();
            var policy = new PlanningPolicy();
            List<Sky.Placement.Optimizer.Candidate> candidates;
            try { candidates = [.. JobPlanner.CandidatesOf(task, catalog, policy)]; }
            catch (NoCandidatesException) { candidates = []; }

            // Brute force: every fitting (offer, spot) pair, cheapest per zone.
            var expected = new List<(string Offer, decimal Hourly)>();
            foreach (var group in task.Candidates
                .SelectMany(r => catalog.Offers.Where(o => Fits(r, o)).Select(o => (Offer: o, Spot: r.UseSpot, Price: o.Hourly(r.UseSpot)!.Value)))
                .DistinctBy(x => (x.Offer.OfferId, x.Spot))
                .GroupBy(x => (x.Offer.Provider, x.Offer.Region, x.Offer.Zone)))
                expected.AddRange(group.OrderBy(x => x.Price).ThenBy(x => x.Offer.OfferId, StringComparer.Ordinal)
                    .Take(JobPlanner.KeptPerZone).Select(x => (x.Offer.OfferId, x.Price)));

            Assert.Equal(expected.Select(e => e.Hourly).Order(), candidates.Select(c => c.HourlyCost).Order());
            Assert.Equal(expected.Min(e => (decimal?)e.Hourly), candidates.Min(c => (decimal?)c.HourlyCost));
        }
    }

    // The planner's rules restated plainly: price of the kind asked, shape (SkyPilot's default 8+ vCPUs and 4 GiB per
    // vCPU when nothing is asked), x86-64 unless an instance type is named, the accelerator, and availability.
    private static bool Fits(ResourceCandidate r, ComputeOffer o)
    {
        if (o.Hourly(r.UseSpot) is null || o.Availability == Availability.Unavailable || o.Arch != "x86_64") return false;
        if (r.Accelerators.Count == 0 ? o.AcceleratorName is not null : !r.Accelerators.Any(a => a.Name == o.AcceleratorName && a.Count == o.AcceleratorCount)) return false;
        var defaulted = r.Accelerators.Count == 0 && r.Cpus is null && r.MemoryGib is null;
        var cpus = r.Cpus ?? (defaulted ? new QuantityBound(8, true) : null);
        var memory = r.MemoryGib ?? (defaulted ? new MemoryBound(4, true, true) : null);
        return (cpus is null || cpus.Admits((decimal)o.Vcpus)) && (memory is null || memory.Admits((decimal)o.MemoryGib, (decimal)o.Vcpus));
    }
}
