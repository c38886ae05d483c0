using Sky.Placement.Tasks;
using Sky.Testing;

namespace Sky.Placement.Tests.Tasks;

/// <summary>The real SkyPilot task files in ../shared/anchors/skypilot-tasks parse, to what each declares.</summary>
public sealed class TaskYamlAnchorTests
{
    private const string Folder = "anchors/skypilot-tasks";

    private static TaskGraph Anchor(string file)
    {
        var path = SharedData.Require($"{Folder}/{file}");
        return TaskYaml.Parse(File.ReadAllText(path), file);
    }

    [SkippableFact]
    public void Every_anchor_file_parses_into_tasks_with_at_least_one_candidate_each()
    {
        var folder = SharedData.Require(Folder);
        var files = System.IO.Directory.GetFiles(folder, "*.yaml").Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 15, $"expected the 15 SkyPilot task files, found {files.Count}");
        foreach (var file in files)
        {
            var graph = TaskYaml.Parse(File.ReadAllText(file), Path.GetFileName(file));
            Assert.NotEmpty(graph.Tasks);
            Assert.All(graph.Tasks, task =>
            {
                Assert.NotEmpty(task.Candidates);
                Assert.NotNull(task.Run);
                Assert.All(task.Candidates, c => Assert.True(c.Line >= 1 && c.Column >= 1));
            });
        }
    }

    [SkippableFact]
    public void Multi_resources_is_two_ordered_candidates_aws_a10g_then_gcp_l4()
    {
        var task = Assert.Single(Anchor("examples__multi_resources.yaml").Tasks);
        Assert.Equal("multi-resources", task.Name);
        Assert.True(task.CandidatesOrdered);
        Assert.Collection(task.Candidates,
            c =>
            {
                Assert.Equal("aws", c.Provider);
                Assert.Equal(new AcceleratorRequest("A10g", 1), Assert.Single(c.Accelerators));
                Assert.Equal("A10G", c.Accelerators[0].Key);
                Assert.Equal((5, 7), (c.Line, c.Column));
            },
            c =>
            {
                Assert.Equal("gcp", c.Provider);
                Assert.Equal(new AcceleratorRequest("L4", 1), Assert.Single(c.Accelerators));
                Assert.Equal((7, 7), (c.Line, c.Column));
            });
        Assert.Equal("nvidia-smi\n", task.Run);
    }

    [SkippableFact]
    public void Gpt2_pipeline_is_a_chain_of_two_and_the_trainer_has_a100x8_on_six_infras()
    {
        var graph = Anchor("llm__gpt-2__gpt2-pipeline.yaml");
        Assert.Equal(["gpt2-data", "gpt2-train"], graph.Tasks.Select(t => t.Name));
        var data = graph["gpt2-data"];
        var train = graph["gpt2-train"];
        Assert.Empty(data.DependsOn);
        Assert.Equal(["gpt2-data"], train.DependsOn);

        var cpus = Assert.Single(data.Candidates).Cpus;
        Assert.Equal(new QuantityBound(8, OrMore: true), cpus);
        Assert.Equal([KeyValuePair.Create("BUCKET_NAME", (string?)null), KeyValuePair.Create("BUCKET_STORE", (string?)"s3")], data.Envs);

        Assert.False(train.CandidatesOrdered);
        Assert.Equal(["lambda", "aws", "gcp", "azure", "fluidstack", "kubernetes"], train.Candidates.Select(c => c.Provider));
        Assert.All(train.Candidates, c =>
        {
            Assert.Equal(new AcceleratorRequest("A100", 8), Assert.Single(c.Accelerators));
            Assert.Null(c.Region);
        });
        // image_id at the base and the lambda override's image_id: null are both kept and reported.
        Assert.Equal(
            ["file_mounts", "resources.image_id", "resources.any_of[0].image_id", "file_mounts"],
            graph.IgnoredFields.Select(f => f.Field));
        var lambdaImage = graph.IgnoredFields.Single(f => f.Field == "resources.any_of[0].image_id");
        Assert.Equal(("gpt2-train", 50, 7), (lambdaImage.Task, lambdaImage.Line, lambdaImage.Column));
        Assert.Equal("null", lambdaImage.Value.ToString());
    }

    [SkippableFact]
    public void Deepseek_is_a_set_of_three_accelerators_on_spot_and_on_demand()
    {
        var task = Assert.Single(Anchor("llm__deepseek-r1__deepseek-r1-671B.yaml").Tasks);
        Assert.Equal(2, task.NumNodes);
        Assert.Equal([true, false], task.Candidates.Select(c => c.UseSpot));
        Assert.All(task.Candidates, c =>
        {
            Assert.Equal(["H200:8", "H100:8", "A100-80GB:8"], c.Accelerators.Select(a => a.ToString()));
            Assert.False(c.AcceleratorsOrdered);
            Assert.Equal(1024, c.DiskSizeGib);
        });
        Assert.Equal(["resources.disk_tier", "resources.ports", "service"], task.Ignored.Select(f => f.Field));
    }

    [SkippableFact]
    public void Llama_keeps_both_a100_counts_of_its_set_and_needs_32_cpus_or_more()
    {
        var task = Assert.Single(Anchor("llm__llama-3_1__llama-3_1.yaml").Tasks);
        var candidate = Assert.Single(task.Candidates);
        Assert.Equal(
            ["L4:8", "A10g:8", "A10:8", "A100:4", "A100:8", "A100-80GB:2", "A100-80GB:4", "A100-80GB:8"],
            candidate.Accelerators.Select(a => a.ToString()));
        Assert.Equal(new QuantityBound(32, true), candidate.Cpus);
        Assert.Equal(1000, candidate.DiskSizeGib);
        Assert.Equal(["HF_TOKEN"], task.Secrets.Keys);
        Assert.Null(task.Secrets["HF_TOKEN"]);
    }

    [SkippableFact]
    public void Vector_database_dict_of_accelerators_is_an_unordered_set_with_at_least_32_gib()
    {
        var task = Assert.Single(Anchor("examples__vector_database__compute_vectors.yaml").Tasks);
        Assert.Equal(2, task.Candidates.Count);
        Assert.All(task.Candidates, c =>
        {
            Assert.Equal(["T4", "L4", "A10G", "A10", "V100"], c.Accelerators.Select(a => a.Name));
            Assert.All(c.Accelerators, a => Assert.Equal(1, a.Count));
            Assert.False(c.AcceleratorsOrdered);
            Assert.Equal(new MemoryBound(32, OrMore: true, PerVcpu: false), c.MemoryGib);
        });
        Assert.Equal("", task.Envs["START_IDX"]);
        Assert.Equal(["workdir", "file_mounts"], task.Ignored.Select(f => f.Field));
    }

    [SkippableFact]
    public void Other_anchor_files_declare_what_they_say()
    {
        var many = Assert.Single(Anchor("examples__many_gpu_vms.yaml").Tasks);
        Assert.Equal(16, many.NumNodes);
        Assert.Equal(("aws", "V100:8"), (many.Candidates[0].Provider, many.Candidates[0].Accelerators[0].ToString()));
        Assert.Equal("pip3 install wandb", many.Setup);

        var spot = Assert.Single(Anchor("examples__managed_spot.yaml").Tasks);
        Assert.True(Assert.Single(spot.Candidates).UseSpot);

        var ddp = Assert.Single(Anchor("examples__distributed-pytorch__train.yaml").Tasks);
        Assert.Equal(("minGPT-ddp", 2), (ddp.Name, ddp.NumNodes));
        Assert.Equal(new QuantityBound(4, true), ddp.Candidates[0].Cpus);
        Assert.Equal("L4:2", ddp.Candidates[0].Accelerators[0].ToString());

        var tpu = Assert.Single(Anchor("examples__tpu__tpuvm_mnist.yaml").Tasks);
        Assert.Equal("tpu-v2-8", Assert.Single(tpu.Candidates[0].Accelerators).Name);

        var resnet = Assert.Single(Anchor("examples__spot__resnet.yaml").Tasks);
        Assert.Equal(["resources.spot_recovery", "file_mounts"], resnet.Ignored.Select(f => f.Field));

        var serve = Assert.Single(Anchor("examples__serve__spot_policy__multi_accelerators.yaml").Tasks);
        Assert.Equal("task-0", serve.Name);
        Assert.True(serve.CandidatesOrdered);
        Assert.Equal(["V100", "T4"], serve.Candidates.Select(c => c.Accelerators[0].Name));
        Assert.All(serve.Candidates, c => Assert.True(c.UseSpot && c.Cpus == new QuantityBound(2, true)));

        var vicuna = Assert.Single(Anchor("llm__vicuna__train.yaml").Tasks);
        Assert.Equal("task-0", vicuna.Name);
        Assert.Equal(["7", "2048", "4", "0", null], vicuna.Envs.Values);
        Assert.Equal("A100-80GB:8", vicuna.Candidates[0].Accelerators[0].ToString());

        var rag = Assert.Single(Anchor("llm__rag__compute_embeddings.yaml").Tasks);
        Assert.Equal("Alibaba-NLP/gte-Qwen2-7B-instruct", rag.Envs["MODEL_NAME"]);
        Assert.Equal(["L4:1"], rag.Candidates[0].Accelerators.Select(a => a.ToString()));
    }
}
