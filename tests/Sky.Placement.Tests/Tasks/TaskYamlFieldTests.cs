using Sky.Placement.Tasks;
using static Sky.Placement.Tests.Tasks.TaskYamlTestText;

namespace Sky.Placement.Tests.Tasks;

/// <summary>Each form SkyPilot accepts for each field Sky.Mesh acts on.</summary>
public sealed class TaskYamlFieldTests
{
    [Fact]
    public void An_empty_file_is_one_unnamed_task_with_one_unconstrained_candidate()
    {
        var graph = TaskYaml.Parse("");
        var task = Assert.Single(graph.Tasks);
        Assert.Null(graph.Name);
        Assert.Equal(("task-0", 0, 1), (task.Name, task.Index, task.NumNodes));
        var candidate = Assert.Single(task.Candidates);
        Assert.Equal((null, null, null, null, null, null, false, null, null), (candidate.Provider, candidate.Region, candidate.Zone,
            candidate.Cpus, candidate.MemoryGib, candidate.InstanceType, candidate.UseSpot, candidate.DiskSizeGib, candidate.MaxHourlyCost));
        Assert.Equal((1, 1), (candidate.Line, candidate.Column));
        Assert.Empty(candidate.Accelerators);
        Assert.Null(task.Run);
        Assert.Empty(task.Envs);
        Assert.Empty(graph.IgnoredFields);
    }

    [Theory]
    [InlineData("aws", "aws", null, null)]
    [InlineData("AWS/us-east-1", "aws", "us-east-1", null)]
    [InlineData("aws/us-east-1/us-east-1a", "aws", "us-east-1", "us-east-1a")]
    [InlineData("aws/*/us-east-1a", "aws", null, "us-east-1a")]
    [InlineData("*", null, null, null)]
    [InlineData("*/us-east-1", null, "us-east-1", null)]
    [InlineData("*/*/us-east-1a", null, null, "us-east-1a")]
    [InlineData("k8s", "kubernetes", null, null)]
    [InlineData("kubernetes", "kubernetes", null, null)]
    [InlineData("k8s/my-h100-context", "kubernetes", "my-h100-context", null)]
    [InlineData("k8s/aws:eks:us-east-1:123456789012:cluster/my-cluster", "kubernetes", "aws:eks:us-east-1:123456789012:cluster/my-cluster", null)]
    [InlineData("fluidstack", "fluidstack", null, null)]
    [InlineData("lambda/us-east-1/", "lambda", "us-east-1", null)]
    [InlineData("Azure/eastus", "azure", "eastus", null)]
    public void Infra_names_cloud_region_and_zone_with_wildcards_and_kubernetes_contexts(
        string infra, string? provider, string? region, string? zone)
    {
        var candidate = Candidate("resources:", $"  infra: \"{infra}\"");
        Assert.Equal((provider, region, zone), (candidate.Provider, candidate.Region, candidate.Zone));
    }

    [Fact]
    public void The_older_cloud_region_zone_fields_still_work()
    {
        var candidate = Candidate("resources:", "  cloud: GCP", "  region: us-central1", "  zone: us-central1-a");
        Assert.Equal(("gcp", "us-central1", "us-central1-a"), (candidate.Provider, candidate.Region, candidate.Zone));
        var regionOnly = Candidate("resources:", "  region: us-west-2");
        Assert.Equal((null, "us-west-2"), (regionOnly.Provider, regionOnly.Region));
    }

    [Theory]
    [InlineData("8", 8, false)]
    [InlineData("8+", 8, true)]
    [InlineData("\"8\"", 8, false)]
    [InlineData("'4+'", 4, true)]
    [InlineData("0.5", 0.5, false)]
    [InlineData("2.5+", 2.5, true)]
    public void Cpus_are_a_number_exact_or_at_least(string yaml, double amount, bool orMore)
    {
        var candidate = Candidate("resources:", $"  cpus: {yaml}");
        Assert.Equal(new QuantityBound((decimal)amount, orMore), candidate.Cpus);
        Assert.Equal(orMore, candidate.Cpus!.Admits((decimal)amount + 1));
        Assert.True(candidate.Cpus.Admits((decimal)amount));
    }

    [Theory]
    [InlineData("32", 32, false, false)]
    [InlineData("32+", 32, true, false)]
    [InlineData("4x", 4, false, true)]
    [InlineData("2x+", 2, true, true)]
    [InlineData("1024MB", 1, false, false)]
    [InlineData("1536mb+", 1.5, true, false)]
    [InlineData("64GB", 64, false, false)]
    [InlineData("1TB", 1024, false, false)]
    [InlineData("512Mi", 0.5, false, false)]
    [InlineData("7.5", 7.5, false, false)]
    public void Memory_is_gib_exact_or_at_least_with_units_or_per_vcpu(string yaml, double amount, bool orMore, bool perVcpu)
    {
        var candidate = Candidate("resources:", $"  memory: {yaml}");
        Assert.Equal(new MemoryBound((decimal)amount, orMore, perVcpu), candidate.MemoryGib);
    }

    [Fact]
    public void A_per_vcpu_memory_bound_scales_with_the_instance()
    {
        var bound = Candidate("resources:", "  memory: 4x+").MemoryGib!;
        Assert.True(bound.Admits(memoryGib: 32, vcpus: 8));
        Assert.True(bound.Admits(memoryGib: 64, vcpus: 8));
        Assert.False(bound.Admits(memoryGib: 16, vcpus: 8));
    }

    [Fact]
    public void One_accelerator_counts_one_unless_it_says_how_many()
    {
        Assert.Equal([new AcceleratorRequest("A100", 1)], Candidate("resources:", "  accelerators: A100").Accelerators);
        Assert.Equal([new AcceleratorRequest("H100", 8)], Candidate("resources:", "  accelerators: H100:8").Accelerators);
        Assert.Equal([new AcceleratorRequest("A100", 8)], Candidate("resources:", "  accelerators: {A100: 8}").Accelerators);
        Assert.Equal([new AcceleratorRequest("A100", 2)], Candidate("resources:", "  accelerators: A100:2.0").Accelerators);
        Assert.Equal([new AcceleratorRequest("L4", 1)], Candidate("resources:", "  gpus: L4").Accelerators);
    }

    [Fact]
    public void A_list_of_accelerators_is_an_order_of_preference()
    {
        var candidate = Candidate("resources:", "  accelerators:", "    - L4:1", "    - H100:1", "    - A100:1");
        Assert.True(candidate.AcceleratorsOrdered);
        Assert.Equal(["L4:1", "H100:1", "A100:1"], candidate.Accelerators.Select(a => a.ToString()));
        Assert.True(Candidate("resources:", "  accelerators: ['L4:1', 'H100:1']").AcceleratorsOrdered);
    }

    [Fact]
    public void A_set_or_mapping_of_accelerators_lets_the_cheapest_win_and_drops_duplicates()
    {
        var set = Candidate("resources:", "  accelerators: {A100:1, V100:1, A100:1}");
        Assert.False(set.AcceleratorsOrdered);
        Assert.Equal(["A100:1", "V100:1"], set.Accelerators.Select(a => a.ToString()));
        var mapping = Candidate("resources:", "  accelerators:", "    T4: 1", "    L4: 2", "    V100:");
        Assert.False(mapping.AcceleratorsOrdered);
        Assert.Equal(["T4:1", "L4:2", "V100:1"], mapping.Accelerators.Select(a => a.ToString()));
        var tagged = Candidate("resources:", "  accelerators: !!set {H100:8, A100:8}");
        Assert.Equal(["H100:8", "A100:8"], tagged.Accelerators.Select(a => a.ToString()));
    }

    [Fact]
    public void Instance_type_spot_disk_and_hourly_cost_are_read()
    {
        var task = Single(
            "resources:",
            "  instance_type: p4d.24xlarge",
            "  use_spot: yes",
            "  disk_size: 512",
            "  max_hourly_cost: 12.75");
        var candidate = Assert.Single(task.Candidates);
        Assert.Equal(("p4d.24xlarge", true, 512, 12.75m), (candidate.InstanceType, candidate.UseSpot, candidate.DiskSizeGib, candidate.MaxHourlyCost));
        Assert.Equal(12.75m, task.MaxHourlyCost);
    }

    [Theory]
    [InlineData("256", 256)]
    [InlineData("256GB", 256)]
    [InlineData("1TB", 1024)]
    [InlineData("1500MB", 1)]
    [InlineData("'100'", 100)]
    public void Disk_size_is_whole_gib_and_units_round_down(string yaml, int gib) =>
        Assert.Equal(gib, Candidate("resources:", $"  disk_size: {yaml}").DiskSizeGib);

    [Fact]
    public void Any_of_entries_override_the_defaults_outside_them()
    {
        var task = Single(
            "resources:",
            "  accelerators: H100:8",
            "  cpus: 16+",
            "  use_spot: true",
            "  any_of:",
            "    - infra: aws/us-west-2",
            "    - infra: gcp/us-central1",
            "      accelerators: A100-80GB:8",
            "      use_spot: false",
            "    - infra: azure",
            "      cpus: null");
        Assert.False(task.CandidatesOrdered);
        Assert.Collection(task.Candidates,
            c => Assert.Equal(("aws", "us-west-2", "H100:8", true, "16+"), (c.Provider, c.Region, c.Accelerators[0].ToString(), c.UseSpot, c.Cpus?.ToString())),
            c => Assert.Equal(("gcp", "us-central1", "A100-80GB:8", false, "16+"), (c.Provider, c.Region, c.Accelerators[0].ToString(), c.UseSpot, c.Cpus?.ToString())),
            c => Assert.Equal(("azure", null, "H100:8", true, null), (c.Provider, c.Region, c.Accelerators[0].ToString(), c.UseSpot, c.Cpus?.ToString())));
        Assert.Equal([(6, 7), (7, 7), (10, 7)], task.Candidates.Select(c => (c.Line, c.Column)));
    }

    [Fact]
    public void Ordered_entries_are_tried_in_order()
    {
        var task = Single("resources:", "  ordered:", "    - infra: aws/us-east-1", "    - infra: aws/us-west-2");
        Assert.True(task.CandidatesOrdered);
        Assert.Equal(["us-east-1", "us-west-2"], task.Candidates.Select(c => c.Region));
    }

    [Fact]
    public void A_set_of_accelerators_combines_with_any_of()
    {
        var task = Single("resources:", "  accelerators: {H100:8, A100:8}", "  any_of:", "    - use_spot: true", "    - use_spot: false");
        Assert.All(task.Candidates, c => Assert.Equal(["H100:8", "A100:8"], c.Accelerators.Select(a => a.ToString())));
        Assert.Equal([true, false], task.Candidates.Select(c => c.UseSpot));
    }

    [Fact]
    public void Envs_keep_file_order_text_as_written_and_null_values()
    {
        var task = Single("envs:", "  ZED: 1", "  ALPHA: '0'", "  MIDDLE:", "  FLAG: true", "  RATE: 0.50", "  EMPTY: ''");
        Assert.Equal(["ZED", "ALPHA", "MIDDLE", "FLAG", "RATE", "EMPTY"], task.Envs.Keys);
        Assert.Equal(["1", "0", null, "true", "0.50", ""], task.Envs.Values);
    }

    [Fact]
    public void Secrets_are_a_mapping_or_a_list_of_names()
    {
        Assert.Equal([KeyValuePair.Create("HF_TOKEN", (string?)"abc"), KeyValuePair.Create("WANDB", (string?)null)],
            Single("secrets:", "  HF_TOKEN: abc", "  WANDB: null").Secrets);
        Assert.Equal(["A", "B"], Single("secrets: [A, B]").Secrets.Keys);
    }

    [Fact]
    public void Inputs_and_outputs_carry_sizes_in_gb_and_their_sum()
    {
        var task = Single("inputs:", "  s3://bucket/train: 120.5", "outputs:", "  gs://out/model: 3", "  gs://out/logs: 0.25");
        Assert.Equal([new DataEntry("s3://bucket/train", 120.5m, 2, 3)], task.Inputs);
        Assert.Equal(120.5m, task.InputsGb);
        Assert.Equal(3.25m, task.OutputsGb);
        Assert.Equal(["gs://out/model", "gs://out/logs"], task.Outputs.Select(o => o.Path));
    }

    [Fact]
    public void A_bucket_input_may_say_its_region_so_reading_it_is_priced_and_one_that_does_not_is_reported()
    {
        var graph = TaskYaml.Parse(Lines(
            "name: t",
            "inputs:",
            "  s3://raw/2026: {size_gb: 800, infra: aws/us-west-2}",
            "  gs://other/set: 40",
            "  /local/data: 5"));
        var task = Assert.Single(graph.Tasks);
        Assert.Equal(new DataLocation("aws", "us-west-2"), task.Inputs[0].Location);
        Assert.Equal(800m, task.Inputs[0].SizeGb);
        Assert.Null(task.Inputs[1].Location);
        Assert.Equal(845m, task.InputsGb);
        var unpriced = Assert.Single(graph.IgnoredFields);
        Assert.Equal(("inputs.gs://other/set", 4, 3), (unpriced.Field, unpriced.Line, unpriced.Column));
        Assert.Contains("infra: gcp/REGION", unpriced.Reason);
        Assert.Equal("azure", DataEntry.ProviderOf("https://acct.blob.core.windows.net/c/blob"));
        Assert.Null(DataEntry.ProviderOf("/local/data"));
    }

    [Fact]
    public void A_bucket_location_that_cannot_be_right_is_an_error_at_its_position()
    {
        var errors = Errors(
            "inputs:",
            "  s3://raw: {size_gb: 8, infra: gcp/us-central1}",
            "  gs://raw: {size_gb: 8, infra: gcp}",
            "  /data: {size_gb: 8, infra: aws/us-east-1}",
            "  az://acct/c: {infra: azure/eastus, sizegb: 3}");
        Assert.Equal(4, errors.Count);
        Assert.Equal((2, 33, "inputs.s3://raw.infra"), (errors[0].Line, errors[0].Column, errors[0].FieldPath));
        Assert.Contains("but s3://raw is on aws", errors[0].Message);
        Assert.Contains("must be cloud/region", errors[1].Message);
        Assert.Contains("not an s3://, gs://, az://", errors[2].Message);
        Assert.Equal("inputs.az://acct/c.sizegb", errors[3].FieldPath);
        Assert.Contains("size_gb", errors[3].Message);
        Assert.Contains("needs size_gb", Error("inputs:", "  s3://raw: {infra: aws/us-east-1}").Message);
    }

    [Fact]
    public void Setup_and_run_keep_their_text_and_num_nodes_defaults_to_one()
    {
        var task = Single("setup: |", "  pip install x", "  echo done", "run: python train.py");
        Assert.Equal("pip install x\necho done\n", task.Setup);
        Assert.Equal("python train.py", task.Run);
        Assert.Equal(1, task.NumNodes);
        Assert.Equal(4, Single("num_nodes: 4").NumNodes);
    }

    [Fact]
    public void Merge_keys_and_aliases_are_applied_as_pyyaml_does()
    {
        var task = Single(
            "resources:",
            "  any_of:",
            "    - &spot {infra: aws, use_spot: true, cpus: 4+, memory: 16+}",
            "    - <<: *spot",
            "      infra: gcp",
            "      memory: 32");
        Assert.Collection(task.Candidates,
            c => Assert.Equal(("aws", true, "4+", "16+"), (c.Provider, c.UseSpot, c.Cpus?.ToString(), c.MemoryGib?.ToString())),
            c => Assert.Equal(("gcp", true, "4+", "32"), (c.Provider, c.UseSpot, c.Cpus?.ToString(), c.MemoryGib?.ToString())));
    }

    [Fact]
    public void Candidates_convert_to_the_contracts_resource_request()
    {
        var candidate = Candidate(
            "resources:",
            "  infra: gcp/us-central1",
            "  cpus: 8+",
            "  memory: 32",
            "  accelerators: [L4:1, A100:1]",
            "  use_spot: true",
            "  disk_size: 100",
            "  instance_type: g2-standard-8");
        var request = candidate.ToProto();
        Assert.Equal(("gcp", "us-central1", ""), (request.Location.Provider, request.Location.Region, request.Location.Zone));
        Assert.Equal((8d, true), (request.Cpus.Amount, request.Cpus.OrMore));
        Assert.Equal((32d, false), (request.MemoryGib.Amount, request.MemoryGib.OrMore));
        Assert.Equal(["L4:1", "A100:1"], request.Accelerators.Select(a => $"{a.Name}:{a.Count}"));
        Assert.True(request.AcceleratorsOrdered);
        Assert.Equal((true, 100, "g2-standard-8"), (request.UseSpot, request.DiskSizeGib, request.InstanceType));

        var bare = new ResourceCandidate { MemoryGib = new MemoryBound(4, false, PerVcpu: true) }.ToProto();
        Assert.Null(bare.Location);
        Assert.Null(bare.Cpus);
        Assert.Null(bare.MemoryGib);
    }
}
