using Sky.Placement.Tasks;
using static Sky.Placement.Tests.Tasks.TaskYamlTestText;

namespace Sky.Placement.Tests.Tasks;

/// <summary>Several documents: a chain by default, a DAG with depends_on; names, cycles, empty documents.</summary>
public sealed class TaskYamlDagTests
{
    [Fact]
    public void Documents_without_depends_on_form_a_chain_in_file_order()
    {
        var graph = TaskYaml.Parse(Lines("name: prep", "run: a", "---", "run: b", "---", "name: eval", "run: c"));
        Assert.Null(graph.Name);
        Assert.Equal(["prep", "task-1", "eval"], graph.Tasks.Select(t => t.Name));
        Assert.Equal([0, 1, 2], graph.Tasks.Select(t => t.Index));
        Assert.Equal([[], ["prep"], ["task-1"]], graph.Tasks.Select(t => t.DependsOn.ToArray()));
        Assert.Equal([(1, 1), (4, 1), (6, 1)], graph.Tasks.Select(t => (t.Line, t.Column)));
    }

    [Fact]
    public void A_leading_document_with_only_a_name_names_the_pipeline()
    {
        var graph = TaskYaml.Parse(Lines("name: pipeline", "---", "name: a", "---", "name: b"));
        Assert.Equal("pipeline", graph.Name);
        Assert.Equal(["a", "b"], graph.Tasks.Select(t => t.Name));
        Assert.Equal([0, 1], graph.Tasks.Select(t => t.Index));

        var single = TaskYaml.Parse("name: solo\n");
        Assert.Equal("solo", single.Name);
        Assert.Equal("solo", Assert.Single(single.Tasks).Name);
    }

    [Fact]
    public void Empty_documents_are_skipped()
    {
        var graph = TaskYaml.Parse(Lines("---", "# only a comment", "---", "name: a", "run: x", "---", "---", "", "---", "name: b", "..."));
        Assert.Equal(["a", "b"], graph.Tasks.Select(t => t.Name));
        Assert.Equal(["a"], graph["b"].DependsOn);
        Assert.Equal("task-0", Assert.Single(TaskYaml.Parse("---\n---\n").Tasks).Name);
    }

    [Fact]
    public void Depends_on_forms_a_dag_and_tasks_without_it_are_roots()
    {
        var graph = TaskYaml.Parse(Lines(
            "name: join", "depends_on: [left, right]",
            "---",
            "name: left", "depends_on: source",
            "---",
            "name: source",
            "---",
            "name: right", "depends_on: [source, source]",
            "---",
            "name: lonely"));
        Assert.Equal(["source", "left", "right", "join", "lonely"], graph.Tasks.Select(t => t.Name));
        Assert.Equal(["left", "right"], graph["join"].DependsOn);
        Assert.Equal(["source"], graph["right"].DependsOn);
        Assert.Empty(graph["lonely"].DependsOn);
        Assert.Empty(graph["source"].DependsOn);
        Assert.Equal([2, 1, 3, 0, 4], graph.Tasks.Select(t => t.Index));
    }

    [Fact]
    public void A_diamond_comes_out_in_a_stable_topological_order()
    {
        var graph = TaskYaml.Parse(Lines(
            "name: d", "depends_on: [b, c]", "---",
            "name: c", "depends_on: [a]", "---",
            "name: b", "depends_on: [a]", "---",
            "name: a", "depends_on: []"));
        Assert.Equal(["a", "c", "b", "d"], graph.Tasks.Select(t => t.Name));
        var position = graph.Tasks.Select((t, i) => (t.Name, i)).ToDictionary();
        Assert.All(graph.Tasks, t => Assert.All(t.DependsOn, d => Assert.True(position[d] < position[t.Name])));
    }

    [Fact]
    public void Unnamed_tasks_can_be_depended_on_by_their_generated_name()
    {
        var graph = TaskYaml.Parse(Lines("run: a", "---", "name: after", "depends_on: [task-0]"));
        Assert.Equal(["task-0"], graph["after"].DependsOn);
    }

    [Fact]
    public void A_cycle_is_an_error_naming_it()
    {
        var error = Error("name: a", "depends_on: [c]", "---", "name: b", "depends_on: [a]", "---", "name: c", "depends_on: [b]");
        Assert.Equal((2, 13, "depends_on"), (error.Line, error.Column, error.FieldPath));
        Assert.Contains("dependency cycle: a -> c -> b -> a (each depends on the next)", error.Message);
    }

    [Fact]
    public void A_task_depending_on_itself_or_on_an_unknown_task_is_an_error()
    {
        var self = Error("name: a", "depends_on: [a]");
        Assert.Equal((2, 14), (self.Line, self.Column));
        Assert.Contains("cannot depend on itself", self.Message);

        var unknown = Error("name: a", "run: x", "---", "name: b", "depends_on: [a, z]");
        Assert.Equal((5, 17, "depends_on"), (unknown.Line, unknown.Column, unknown.FieldPath));
        Assert.Contains("unknown task 'z'; tasks in this file: a, b", unknown.Message);
    }

    [Fact]
    public void Duplicate_task_names_are_errors_including_a_clash_with_a_generated_name()
    {
        var duplicate = Error("name: a", "run: x", "---", "name: a");
        Assert.Equal((4, 7, "name"), (duplicate.Line, duplicate.Column, duplicate.FieldPath));
        Assert.Contains("duplicate task name 'a' (also the task at line 1)", duplicate.Message);

        var clash = Error("name: task-1", "run: x", "---", "run: y");
        Assert.Equal((4, 1), (clash.Line, clash.Column));
        Assert.Contains("duplicate task name 'task-1'", clash.Message);
    }

    [Fact]
    public void Errors_in_several_documents_are_all_reported_dependency_errors_included()
    {
        var errors = Errors("name: a", "resources: {cpus: x}", "---", "name: b", "num_nodes: -1", "depends_on: [zz]", "---", "bogus: 1");
        Assert.Equal([2, 5, 6, 8], errors.Select(e => e.Line));
    }

    [Fact]
    public void A_null_name_is_no_name()
    {
        var graph = TaskYaml.Parse(Lines("name:", "run: a", "---", "name: b", "depends_on: [task-0]"));
        Assert.Equal(["task-0", "b"], graph.Tasks.Select(t => t.Name));
    }
}
