using Sky.Placement.Tasks;
using static Sky.Placement.Tests.Tasks.TaskYamlTestText;

namespace Sky.Placement.Tests.Tasks;

/// <summary>Unknown fields, bad values and broken YAML: every error, with file, line, column and field path.</summary>
public sealed class TaskYamlErrorTests
{
    private static void AssertError(TaskYamlError error, int line, int column, string path, string messageContains)
    {
        Assert.Equal((line, column, path), (error.Line, error.Column, error.FieldPath));
        Assert.Contains(messageContains, error.Message);
    }

    [Fact]
    public void Errors_print_as_file_line_column_field_and_message()
    {
        var exception = Assert.Throws<TaskYamlException>(() =>
            TaskYaml.Parse(Lines("name: train", "resources:", "  cpus: 8++"), "train.yaml"));
        var error = Assert.Single(exception.Errors);
        Assert.Equal(new TaskYamlError("train.yaml", 3, 9, "resources.cpus", "'8++' is not a number, 'N' or 'N+'"), error);
        Assert.Equal("train.yaml:3:9: resources.cpus: '8++' is not a number, 'N' or 'N+'", error.ToString());
        Assert.Equal("train.yaml:3:9", error.Position);
        Assert.Equal(error.ToString(), exception.Message);
    }

    [Fact]
    public void Every_error_in_the_file_is_reported_in_order_of_position()
    {
        var errors = Errors(
            "name: bad name",
            "num_nodes: 0",
            "resources:",
            "  cpus: many",
            "  memory: 12QB",
            "  use_spot: 'true'",
            "  colud: aws",
            "envs:",
            "  1BAD: x",
            "run: [a, b]");
        Assert.Equal(
            [(1, 7, "name"), (2, 12, "num_nodes"), (4, 9, "resources.cpus"), (5, 11, "resources.memory"),
             (6, 13, "resources.use_spot"), (7, 3, "resources.colud"), (9, 3, "envs.1BAD"), (10, 6, "run")],
            errors.Select(e => (e.Line, e.Column, e.FieldPath)));
        Assert.Contains("did you mean 'cloud'?", errors[5].Message);
    }

    [Fact]
    public void Unknown_top_level_fields_are_errors_with_a_suggestion()
    {
        AssertError(Error("name: x", "num_node: 2"), 2, 1, "num_node", "unknown field 'num_node' (did you mean 'num_nodes'?)");
        AssertError(Error("frobnicate: 1"), 1, 1, "frobnicate", "unknown field 'frobnicate'");
    }

    [Fact]
    public void Unknown_fields_inside_candidates_are_errors_at_their_key()
    {
        AssertError(
            Error("resources:", "  any_of:", "    - infra: aws", "    - infra: gcp", "      acelerators: L4"),
            5, 7, "resources.any_of[1].acelerators", "did you mean 'accelerators'?");
    }

    [Theory]
    [InlineData("infra: mars", 3, "unknown cloud 'mars'")]
    [InlineData("infra: aws//us-east-1a", 3, "empty part")]
    [InlineData("infra: aws/us-east-1/us-east-1a/extra", 3, "more than three parts")]
    [InlineData("cloud: mars", 3, "unknown cloud 'mars'")]
    [InlineData("cpus: -2", 3, "'-2': the number of vCPUs must be positive")]
    [InlineData("cpus: true", 3, "the boolean true is not a number")]
    [InlineData("memory: 4GBx", 3, "is not a memory size")]
    [InlineData("memory: 0", 3, "memory must be positive")]
    [InlineData("accelerators: A100:x", 3, "'A100:x' is not an accelerator")]
    [InlineData("accelerators: A100:0.5", 3, "fractional accelerator counts ('A100:0.5') are not supported")]
    [InlineData("accelerators: A100:0", 3, "from 1 to")]
    [InlineData("accelerators: 24GB+", 3, "choosing accelerators by memory size ('24GB+') is not supported")]
    [InlineData("accelerators: 8", 3, "the number 8 is not an accelerator")]
    [InlineData("use_spot: maybe", 3, "the text 'maybe' is not true or false")]
    [InlineData("disk_size: 10.5", 3, "'10.5' is not a disk size")]
    [InlineData("disk_size: 0", 3, "between 1 GiB")]
    [InlineData("max_hourly_cost: 0", 3, "max_hourly_cost must be positive")]
    [InlineData("max_hourly_cost: cheap", 3, "'cheap' is not a number")]
    [InlineData("instance_type: [a]", 3, "a list is not a valid instance type")]
    public void Bad_resource_values_are_errors_at_the_value(string line, int column, string message)
    {
        var field = line[..line.IndexOf(':')];
        var error = Error("resources:", $"  {line}");
        AssertError(error, 2, column + line.IndexOf(':') + 2, $"resources.{field}", message);
    }

    [Fact]
    public void An_accelerator_count_given_twice_or_fractionally_in_a_mapping_is_an_error()
    {
        AssertError(Error("resources:", "  accelerators: {A100:8: 2}"), 2, 18, "resources.accelerators.A100:8", "already has a count");
        AssertError(Error("resources:", "  accelerators:", "    A100: 0.5"), 3, 11, "resources.accelerators.A100", "fractional accelerator counts ('A100: 0.5')");
    }

    [Fact]
    public void Infra_and_the_older_location_fields_cannot_be_combined_even_across_an_override()
    {
        AssertError(Error("resources:", "  infra: aws", "  region: us-east-1"), 2, 10, "resources.infra", "'infra' cannot be combined with 'region'");
        AssertError(
            Error("resources:", "  cloud: aws", "  any_of:", "    - infra: gcp"),
            4, 14, "resources.any_of[0].infra", "'infra' cannot be combined with 'cloud'");
    }

    [Fact]
    public void Any_of_and_ordered_follow_skypilots_rules()
    {
        AssertError(
            Error("resources:", "  any_of: [{infra: aws}]", "  ordered: [{infra: gcp}]"),
            3, 3, "resources.ordered", "'any_of' and 'ordered' cannot both be given");
        AssertError(
            Error("resources:", "  accelerators: {A100:8, H100:8}", "  ordered: [{infra: aws}, {infra: gcp}]"),
            2, 17, "resources.accelerators", "several accelerators cannot be combined with 'ordered'");
        AssertError(
            Error("resources:", "  accelerators: [A100:8, H100:8]", "  any_of: [{infra: aws}]"),
            2, 17, "resources.accelerators", "an ordered list of accelerators cannot be combined with 'any_of'");
        AssertError(
            Error("resources:", "  any_of:", "    - infra: aws", "      ordered: [{infra: gcp}]"),
            4, 7, "resources.any_of[0].ordered", "cannot be nested");
        AssertError(Error("resources:", "  any_of: aws"), 2, 11, "resources.any_of", "must be a list of resource mappings");
        AssertError(Error("resources:", "  any_of: [aws]"), 2, 12, "resources.any_of[0]", "must be a mapping of resource fields");
        AssertError(Error("resources:", "  gpus: L4", "  accelerators: T4"), 3, 3, "resources.accelerators", "'gpus' and 'accelerators' are the same field");
    }

    [Fact]
    public void A_bad_base_value_is_one_error_however_many_candidates_inherit_it()
    {
        var errors = Errors("resources:", "  cpus: lots", "  any_of:", "    - infra: aws", "    - infra: gcp", "    - infra: azure");
        AssertError(Assert.Single(errors), 2, 9, "resources.cpus", "'lots'");
    }

    [Fact]
    public void Bad_task_values_are_errors_at_the_value()
    {
        AssertError(Error("name: -x-"), 1, 7, "name", "'-x-' is not a valid name");
        AssertError(Error("num_nodes: 1.5"), 1, 12, "num_nodes", "'1.5' is not a valid num_nodes");
        AssertError(Error("resources: [cpus]"), 1, 12, "resources", "must be a mapping of resource fields, not a list");
        AssertError(Error("envs: [A]"), 1, 7, "envs", "must be a mapping of names to values");
        AssertError(Error("envs:", "  A: [1]"), 2, 6, "envs.A", "must be text or null, not a list");
        AssertError(Error("inputs: s3://x"), 1, 9, "inputs", "must be a mapping of a path or URI to its size in GB");
        AssertError(Error("inputs:", "  s3://x:"), 2, 3, "inputs.s3://x", "needs its estimated size in GB");
        AssertError(Error("outputs:", "  s3://x: -1"), 2, 11, "outputs.s3://x", "a size in GB must be zero or more");
        AssertError(Error("setup:", "  a: b"), 2, 3, "setup", "must be a shell script (text), not a mapping");
        AssertError(Error("secrets: 5"), 1, 10, "secrets", "or a list of names");
        AssertError(Error("depends_on: [{a: b}]"), 1, 14, "depends_on[0]", "must be a task name");
    }

    [Fact]
    public void A_document_that_is_not_a_mapping_is_an_error()
    {
        AssertError(Error("just text"), 1, 1, "", "a task must be a mapping of fields, not the text 'just text'");
        AssertError(Error("- a", "- b"), 1, 1, "", "not a list");
    }

    [Fact]
    public void Yaml_syntax_errors_carry_yamldotnets_position()
    {
        AssertError(Error("resources:", "  cpus: [4", "run: x"), 2, 9, "", "YAML syntax: the YAML cannot be read after this point");
        AssertError(Error("name: a", "  b: c"), 2, 4, "", "YAML syntax:");
        AssertError(Error("run: 'unterminated"), 1, 6, "", "YAML syntax:");
    }

    [Fact]
    public void Duplicate_keys_unknown_aliases_and_unsupported_tags_are_errors()
    {
        AssertError(Error("name: a", "run: x", "name: b"), 3, 1, "", "duplicate key 'name' (first at line 1, column 1)");
        AssertError(Error("run: *nowhere"), 1, 6, "", "alias '*nowhere' refers to no anchor defined before it");
        AssertError(Error("run: !shell echo"), 1, 6, "", "unsupported YAML tag '!shell'");
        AssertError(Errors("num_nodes: !!int two")[0], 1, 12, "", "'two' is not a valid !!int");
        AssertError(Error("resources: {<<: 5}"), 1, 17, "", "a merge key '<<' needs a mapping");
        AssertError(Error("? [a, b]", ": c"), 1, 3, "", "a mapping key must be a scalar");
    }

    [Fact]
    public void Yaml_over_one_mebibyte_is_refused_before_parsing()
    {
        var text = "run: " + new string('x', TaskYaml.MaxBytes);
        var error = Assert.Single(Assert.Throws<TaskYamlException>(() => TaskYaml.Parse(text)).Errors);
        Assert.Equal((1, 1), (error.Line, error.Column));
        Assert.Contains("at most 1048576 (1 MiB)", error.Message);
    }

    [Fact]
    public void An_alias_bomb_is_refused_without_expanding_it()
    {
        var lines = new List<string> { "config:", "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]" };
        for (var i = 1; i <= 9; i++)
            lines.Add($"  a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]");
        var started = DateTime.UtcNow;
        var error = Assert.Single(Errors([.. lines]));
        Assert.Contains("more than 250000 nodes (aliases counted as expanded)", error.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Deep_nesting_is_refused()
    {
        var text = "config: " + new string('[', 10_000) + new string(']', 10_000);
        var error = Assert.Single(Assert.Throws<TaskYamlException>(() => TaskYaml.Parse(text)).Errors);
        Assert.Contains("nests deeper than 64 levels", error.Message);
    }

    [Fact]
    public void A_file_name_is_used_in_positions_and_defaults_to_task_yaml()
    {
        Assert.Equal("task.yaml", Assert.Throws<TaskYamlException>(() => TaskYaml.Parse("x: 1", "")).Errors[0].File);
        Assert.Equal("a/b.yaml", Assert.Throws<TaskYamlException>(() => TaskYaml.Parse("x: 1", "a/b.yaml")).Errors[0].File);
        Assert.Throws<ArgumentNullException>(() => TaskYaml.Parse(null!));
    }
}
