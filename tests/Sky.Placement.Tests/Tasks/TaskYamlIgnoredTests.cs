using Sky.Placement.Tasks;
using static Sky.Placement.Tests.Tasks.TaskYamlTestText;

namespace Sky.Placement.Tests.Tasks;

/// <summary>Fields SkyPilot accepts that Sky.Mesh does not act on: kept with their values and reported, never dropped.</summary>
public sealed class TaskYamlIgnoredTests
{
    [Fact]
    public void Ignored_fields_are_reported_with_task_path_position_reason_and_value()
    {
        var graph = TaskYaml.Parse(Lines(
            "name: web",
            "workdir: ~/code",
            "resources:",
            "  cpus: 2",
            "  ports: [8080, 10022-10040]",
            "  image_id: docker:ubuntu:22.04",
            "  labels: {team: ml}",
            "  job_recovery:",
            "    strategy: FAILOVER",
            "    max_restarts_on_errors: 3",
            "  any_of:",
            "    - infra: aws",
            "      disk_tier: best",
            "file_mounts:",
            "  /data: s3://bucket/data",
            "  /ckpt:",
            "    name: my-bucket",
            "    mode: MOUNT",
            "service:",
            "  readiness_probe: /health",
            "config:",
            "  kubernetes:",
            "    provision_timeout: 600",
            "run: ./serve"));
        Assert.Equal(
            [
                ("workdir", 2, 1), ("resources.ports", 5, 3), ("resources.image_id", 6, 3), ("resources.labels", 7, 3),
                ("resources.job_recovery", 8, 3), ("resources.any_of[0].disk_tier", 13, 7), ("file_mounts", 14, 1),
                ("service", 19, 1), ("config", 21, 1),
            ],
            graph.IgnoredFields.Select(f => (f.Field, f.Line, f.Column)));
        Assert.All(graph.IgnoredFields, f =>
        {
            Assert.Equal("web", f.Task);
            Assert.False(string.IsNullOrWhiteSpace(f.Reason));
        });
        Assert.Equal(graph.IgnoredFields, graph["web"].Ignored);

        var mounts = graph.IgnoredFields.Single(f => f.Field == "file_mounts");
        var tree = Assert.IsType<YamlMapping>(mounts.Value);
        Assert.Equal(["/data", "/ckpt"], tree.Entries.Select(e => e.Key.Text));
        Assert.Equal("{/data: s3://bucket/data, /ckpt: {name: my-bucket, mode: MOUNT}}", mounts.Value.ToString());
        Assert.Equal("[8080, 10022-10040]", graph.IgnoredFields.Single(f => f.Field == "resources.ports").Value.ToString());
        Assert.Equal("{strategy: FAILOVER, max_restarts_on_errors: 3}", graph.IgnoredFields.Single(f => f.Field == "resources.job_recovery").Value.ToString());
        Assert.Equal("~/code", graph.IgnoredFields[0].Value.ToString());
    }

    [Fact]
    public void Ignored_fields_convert_to_the_contracts_form()
    {
        var field = TaskYaml.Parse(Lines("name: a", "resources:", "  autostop: 10m")).IgnoredFields.Single();
        var proto = field.ToProto();
        Assert.Equal(("a", "resources.autostop", 3, 3), (proto.Task, proto.Field, proto.Line, proto.Column));
        Assert.Equal(field.Reason, proto.Reason);
    }

    [Fact]
    public void Each_task_reports_its_own_ignored_fields_and_the_graph_lists_them_in_file_order()
    {
        var graph = TaskYaml.Parse(Lines("name: b", "depends_on: [a]", "workdir: .", "---", "name: a", "volumes: {}"));
        Assert.Equal(["a", "b"], graph.Tasks.Select(t => t.Name));
        Assert.Equal([("b", "workdir"), ("a", "volumes")], graph.IgnoredFields.Select(f => (f.Task, f.Field)));
        Assert.Equal(["volumes"], graph["a"].Ignored.Select(f => f.Field));
    }

    [Fact]
    public void Values_render_back_as_flow_yaml_that_quotes_what_needs_quoting()
    {
        var field = TaskYaml.Parse(Lines(
            "service:",
            "  post_data: {model: \"x y\", n: 1, ok: true, none: null, quoted: 'true', text: \"a\\\"b\\nc\"}"))
            .IgnoredFields.Single();
        Assert.Equal("{post_data: {model: \"x y\", n: 1, ok: true, none: null, quoted: \"true\", text: \"a\\\"b\\nc\"}}", field.Value.ToString());
    }
}
