using Grpc.Core;
using Sky.Placement.V1;
using Sky.Testing;
using PlacementClient = Sky.Placement.V1.Placement.PlacementClient;

namespace Sky.Placement.Tests.Api;

/// <summary>A task reading a bucket whose region its `inputs` give pays that bucket's egress per region pair, and runs where that is cheapest.</summary>
public sealed class PlacementInputsTests
{
    private static PlanRequest Request(string inputs) => new()
    {
        Spec = new JobSpec
        {
            TaskYaml = $"name: train\nresources:\n  accelerators: L4:1\ninputs:\n  {inputs}\nrun: echo train\n",
            FileName = "train.yaml",
            TenantId = "acme",
            Policy = new PlacementPolicy { AllowedProviders = { "aws", "gcp" } },
        },
    };

    [Fact]
    public async Task A_large_located_input_pulls_the_task_to_its_cloud_and_its_egress_is_in_the_plan()
    {
        await using var mesh = await TestMesh.StartAsync("all");
        var client = mesh.Client<PlacementClient>();

        var unlocated = await client.PlanAsync(Request("s3://corpus/2026: 5000"));
        var cheapest = Assert.Single(unlocated.Tasks).Chosen.Location.Provider;
        Assert.Empty(unlocated.Egress);
        Assert.Contains(unlocated.IgnoredFields, f => f.Field == "inputs.s3://corpus/2026" && f.Reason.Contains("not priced"));

        // 5 TB out of the bucket's cloud costs far more than any GPU price difference: the task goes to the data.
        foreach (var (provider, region) in new[] { ("aws", "us-east-1"), ("gcp", "us-central1") })
        {
            var plan = await client.PlanAsync(Request($"{(provider == "aws" ? "s3" : "gs")}://corpus/2026: {{size_gb: 5000, infra: {provider}/{region}}}"));
            var task = Assert.Single(plan.Tasks);
            Assert.Equal((provider, region), (task.Chosen.Location.Provider, task.Chosen.Location.Region));
            var read = Assert.Single(plan.Egress);
            Assert.Equal(("train", 5_000_000_000_000L), (read.DestinationTask, read.Bytes));
            Assert.Equal((provider, region), (read.Source.Provider, read.Source.Region));
            Assert.Equal(0m, read.Cost.ToDecimal());
        }

        // A bucket in a region without the GPU: the read crosses regions and its egress is priced and totalled.
        var away = await client.PlanAsync(Request("s3://corpus/2026: {size_gb: 100, infra: aws/eu-west-1}"));
        var egress = Assert.Single(away.Egress);
        Assert.Equal("s3://corpus/2026", egress.SourceTask);
        Assert.True(egress.Cost.ToDecimal() > 0m);
        Assert.Equal(away.Cost.Compute.ToDecimal() + egress.Cost.ToDecimal(), away.Cost.Total.ToDecimal());

        // Launched, the job runs its one task: the bucket is not a task.
        var launched = await client.LaunchAsync(new LaunchRequest { Spec = Request("s3://corpus/2026: {size_gb: 100, infra: aws/eu-west-1}").Spec });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Job job = null!;
        using var watch = client.WatchJob(new WatchJobRequest { JobId = launched.JobId }, cancellationToken: cts.Token);
        await foreach (var change in watch.ResponseStream.ReadAllAsync(cts.Token)) job = change.Job;
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal("train", Assert.Single(job.Tasks).Task);
    }
}
