using Sky.Placement.Optimizer;
using Sky.Pricing;
using static Sky.Placement.Tests.Optimizer.Problems;

namespace Sky.Placement.Tests.Optimizer;

/// <summary>Placement decisions on small hand-built problems, each checking one rule.</summary>
public sealed class OptimizerTests
{
    private static readonly PlacementOptimizer Optimizer = new(new OptimizerOptions { TimeLimit = TimeSpan.FromSeconds(20) });

    [Fact]
    public void One_task_takes_the_cheapest_candidate_and_lists_sorted_alternatives_without_the_chosen_one()
    {
        var plan = Optimizer.Optimize(Problem(
        [
            Task(0, 2m,
                At("aws/us-east-1/us-east-1a", 0.10m),
                At("aws/us-east-1/us-east-1b", 0.10m),   // the same offering in another zone: listed once
                At("gcp/us-central1", 0.09m, instance: "n2-standard-2"),
                At("aws/us-west-2", 0.11m),
                At("gcp/europe-west4", 0.12m, instance: "n2-standard-2"),
                At("aws/us-east-1", 0.15m, instance: "c5.large"),
                At("aws/us-west-2", 0.20m, instance: "c5.large"),
                At("aws/us-west-2", 0.30m, instance: "m5.xlarge")),
        ]));

        Assert.Equal(SolveMethod.Scan, plan.Method);
        Assert.True(plan.Optimal);
        var task = Assert.Single(plan.Tasks);
        Assert.Equal("gcp/us-central1", task.Where());
        Assert.Equal(0.18m, task.ComputeCost);
        Assert.Equal(0.18m, plan.TotalCost);
        Assert.Equal(0.09m, plan.HourlyCost);
        Assert.Equal(TimeSpan.FromHours(2), plan.Makespan);
        Assert.Equal([0.02m, 0.04m, 0.06m, 0.12m, 0.22m], task.Alternatives.Select(a => a.TotalCostDelta));
        Assert.DoesNotContain(task.Alternatives, a => ReferenceEquals(a.Candidate, task.Chosen));
        Assert.Single(task.Alternatives, a => a.Candidate.InstanceType == "m5.large" && a.Candidate.Region == "us-east-1");
        Assert.All(task.Alternatives, a => Assert.Equal(plan.TotalCost + a.TotalCostDelta, a.TotalCost));
    }

    [Fact]
    public void The_cheapest_compute_loses_when_its_egress_costs_more()
    {
        var plan = Optimizer.Optimize(Problem(
            [Task(0, At("aws/us-east-1", 1.00m)), Task(1, At("gcp/us-central1", 0.50m), At("aws/us-east-1", 0.60m))],
            [new TaskEdge(0, 1, 500m)]));

        Assert.Equal("aws/us-east-1", plan.Tasks[1].Where());
        Assert.Equal(0m, plan.EgressCost);
        Assert.Equal(EgressMatch.ExactPair, plan.Edges[0].Match);
        Assert.Equal(1.60m, plan.TotalCost);
        // Moving the second task to GCP saves 0.10 of compute and pays 500 GB x 0.09 of internet egress.
        var gcp = Assert.Single(plan.Tasks[1].Alternatives);
        Assert.Equal(44.90m, gcp.TotalCostDelta);
    }

    [Theory]
    [InlineData("10240", "921.60")]     // SkyPilot prices exactly 10,240 GB at $0
    [InlineData("10241", "921.685")]
    [InlineData("51200", "4403.20")]
    public void Egress_on_an_edge_is_priced_right_at_the_tier_edges(string gb, string egress)
    {
        var plan = Optimizer.Optimize(Problem(
            [Task(0, At("aws/us-east-1", 1m)), Task(1, At("gcp/us-central1", 2m))],
            [new TaskEdge(0, 1, decimal.Parse(gb))]));

        Assert.Equal(decimal.Parse(egress), plan.EgressCost);
        Assert.Equal(decimal.Parse(egress), plan.Edges[0].EgressCost);
        Assert.Equal(EgressMatch.Internet, plan.Edges[0].Match);
        Assert.Equal(3m + decimal.Parse(egress), plan.TotalCost);
    }

    [Fact]
    public void An_ordered_preference_wins_over_cost_and_cost_decides_within_a_rank()
    {
        Candidate[] ordered =
        [
            At("aws/us-east-1", 3.00m, rank: 1, instance: "p4d"),
            At("aws/us-west-2", 2.50m, rank: 1, instance: "p4d"),
            At("gcp/us-central1", 0.70m, rank: 2, instance: "g2-standard-4"),
            At("aws/us-east-1", 0.80m, rank: 2, instance: "g6.xlarge"),
        ];
        var plan = Optimizer.Optimize(Problem([Task(0, ordered)]));
        Assert.Equal("aws/us-west-2", plan.Tasks[0].Where());

        // When no first choice fits the budget, the second preference is taken, cheapest first.
        plan = Optimizer.Optimize(Problem([Task(0, ordered)]) with { MaxHourlyCost = 1m });
        Assert.Equal("gcp/us-central1", plan.Tasks[0].Where());
        Assert.Equal(2, plan.Tasks[0].Chosen.PreferenceRank);
    }

    [Theory]
    [InlineData(SolveMethod.Auto, SolveMethod.VariableElimination)]
    [InlineData(SolveMethod.IntegerProgram, SolveMethod.IntegerProgram)]
    public void Preferences_hold_in_a_dag_even_against_egress(SolveMethod forced, SolveMethod used)
    {
        // A diamond: the middle task prefers GCP although its data lives on AWS.
        var optimizer = new PlacementOptimizer(new OptimizerOptions { Method = forced, TimeLimit = TimeSpan.FromSeconds(20) });
        var plan = optimizer.Optimize(Problem(
            [
                Task(0, At("aws/us-east-1", 1m)),
                Task(1, At("gcp/us-central1", 1m, rank: 1), At("aws/us-east-1", 0.5m, rank: 2)),
                Task(2, At("aws/us-east-1", 1m), At("gcp/us-central1", 1m)),
                Task(3, At("aws/us-east-1", 1m)),
            ],
            [new TaskEdge(0, 1, 100m), new TaskEdge(0, 2, 100m), new TaskEdge(1, 3, 100m), new TaskEdge(2, 3, 100m)]));

        Assert.Equal(used, plan.Method);
        Assert.True(plan.Optimal);
        Assert.Equal("gcp/us-central1", plan.Tasks[1].Where());
        Assert.Equal("aws/us-east-1", plan.Tasks[2].Where());
        // 100 GB to GCP at 0.09 and 100 GB back at 0.12.
        Assert.Equal(21m, plan.EgressCost);
    }

    [Fact]
    public void A_budget_per_hour_no_plan_meets_is_named()
    {
        var problem = Problem([Task(0, At("aws/us-east-1", 1m), At("gcp/us-central1", 1.2m)), Task(1, At("aws/us-east-1", 1m))]) with { MaxHourlyCost = 1.5m };
        var e = Assert.Throws<NoFeasiblePlanException>(() => Optimizer.Optimize(problem));
        Assert.Equal(PlacementConstraint.BudgetPerHour, e.Constraint);
        Assert.Contains("budget per hour $1.5: the cheapest candidates of all tasks together cost $2/h", e.Message);
    }

    [Fact]
    public void A_budget_per_job_broken_by_egress_is_named_with_the_cheapest_plan()
    {
        var problem = Problem([Task(0, At("aws/us-east-1", 1m)), Task(1, At("gcp/us-central1", 1m))], [new TaskEdge(0, 1, 1_000m)]) with { MaxJobCost = 50m };
        var e = Assert.Throws<NoFeasiblePlanException>(() => Optimizer.Optimize(problem));
        Assert.Equal(PlacementConstraint.BudgetPerJob, e.Constraint);
        Assert.Contains("budget per job $50: the cheapest plan costs $92", e.Message);
    }

    [Fact]
    public void A_budget_per_job_that_rules_out_the_chain_optimum_sends_the_search_to_the_integer_program()
    {
        // Preferences make the chain program pick the dear first choice; the budget rules it out.
        var problem = Problem(
            [Task(0, At("aws/us-east-1", 1m)), Task(1, At("aws/us-east-1", 5m, rank: 1), At("aws/us-east-1", 1m, rank: 2, instance: "small"))],
            [new TaskEdge(0, 1, 10m)]);
        Assert.Equal(SolveMethod.ChainDynamicProgram, Optimizer.Optimize(problem).Method);

        var plan = Optimizer.Optimize(problem with { MaxJobCost = 3m });
        Assert.Equal(SolveMethod.IntegerProgram, plan.Method);
        Assert.Equal("small", plan.Tasks[1].Chosen.InstanceType);
        Assert.Equal(2m, plan.TotalCost);
    }

    [Fact]
    public void A_deadline_changes_the_choice()
    {
        // The cheap region is behind a slow link: 100 GB at 100 Mbit/s is 8,000 s; to us-west-2 it is 80 s.
        var throughput = new ThroughputGrid(
            [Rate("aws/us-east-1", "gcp/us-central1", 100_000_000), Rate("aws/us-east-1", "aws/us-west-2", 10_000_000_000)]);
        var problem = Problem(
            [Task(0, At("aws/us-east-1", 1m)), Task(1, At("gcp/us-central1", 0.10m), At("aws/us-west-2", 10m))],
            [new TaskEdge(0, 1, 100m)], throughput: throughput);

        var cheapest = Optimizer.Optimize(problem);
        Assert.Equal("gcp/us-central1", cheapest.Tasks[1].Where());
        Assert.Equal(1m + 0.10m + 9m, cheapest.TotalCost);
        Assert.Equal(TimeSpan.FromSeconds(7_200 + 8_000), cheapest.Makespan);

        var inTime = Optimizer.Optimize(problem with { Objective = PlacementObjective.CostUnderDeadline, Deadline = TimeSpan.FromHours(3) });
        Assert.Equal("aws/us-west-2", inTime.Tasks[1].Where());
        Assert.Equal(1m + 10m + 2m, inTime.TotalCost);
        Assert.Equal(TimeSpan.FromSeconds(7_280), inTime.Makespan);
        Assert.Equal(TimeSpan.FromSeconds(3_680), inTime.Tasks[1].Start);
        Assert.Equal(TimeSpan.FromSeconds(80), inTime.Edges[0].TransferTime);
        // The GCP move would break the deadline, so it is not offered as an alternative.
        Assert.Empty(inTime.Tasks[1].Alternatives);

        var fastest = Optimizer.Optimize(problem with { Objective = PlacementObjective.Time });
        Assert.Equal("aws/us-west-2", fastest.Tasks[1].Where());

        var e = Assert.Throws<NoFeasiblePlanException>(() => Optimizer.Optimize(problem with { Deadline = TimeSpan.FromHours(2) }));
        Assert.Equal(PlacementConstraint.Deadline, e.Constraint);
        Assert.Contains("the fastest plan takes 02:01:20", e.Message);
    }

    [Fact]
    public void The_time_objective_lets_cost_break_ties_between_equally_fast_plans()
    {
        var problem = Problem(
            [Task(0, At("aws/us-east-1", 1m)), Task(1, At("aws/us-west-2", 2m), At("aws/us-west-2", 1.5m, instance: "cheaper"), At("gcp/us-central1", 0.1m))],
            [new TaskEdge(0, 1, 10m)],
            throughput: new ThroughputGrid([Rate("aws/us-east-1", "aws/us-west-2", 1_000_000_000), Rate("aws/us-east-1", "gcp/us-central1", 1_000_000)]))
            with { Objective = PlacementObjective.Time };
        var plan = Optimizer.Optimize(problem);
        Assert.Equal("cheaper", plan.Tasks[1].Chosen.InstanceType);
        Assert.Equal(TimeSpan.FromSeconds(7_200 + 80), plan.Makespan);
    }

    [Fact]
    public void Limits_that_each_fit_alone_but_not_together_are_named_as_a_combination()
    {
        var throughput = new ThroughputGrid([Rate("aws/us-east-1", "gcp/us-central1", 100_000_000)]);
        var problem = Problem(
            [Task(0, At("aws/us-east-1", 1m)), Task(1, At("gcp/us-central1", 0.5m), At("aws/us-east-1", 5m))],
            [new TaskEdge(0, 1, 100m)], throughput: throughput)
            with { MaxHourlyCost = 2m, Deadline = TimeSpan.FromHours(2.5) };
        var e = Assert.Throws<NoFeasiblePlanException>(() => Optimizer.Optimize(problem));
        Assert.Equal(PlacementConstraint.Combination, e.Constraint);
        Assert.Contains("budget per hour $2, deadline 02:30:00 together", e.Message);
    }

    [Fact]
    public void An_edge_with_no_egress_price_anywhere_is_reported_not_taken_as_free()
    {
        var problem = Problem([Task(0, At("lambda/us-west-1", 1m)), Task(1, At("aws/us-east-1", 1m))], [new TaskEdge(0, 1, 10m)]);
        var e = Assert.Throws<NoFeasiblePlanException>(() => Optimizer.Optimize(problem));
        Assert.Equal(PlacementConstraint.EgressPrice, e.Constraint);
        Assert.Contains("edge 't0' -> 't1' (10 GB): no egress price", e.Message);
        Assert.Contains("lambda/us-west-1 -> aws/us-east-1", e.Message);

        // A region with no price is avoided when another has one.
        var plan = Optimizer.Optimize(Problem([Task(0, At("lambda/us-west-1", 0.1m), At("aws/us-east-1", 1m)), Task(1, At("aws/us-east-1", 1m))],
            [new TaskEdge(0, 1, 10m)]));
        Assert.Equal("aws/us-east-1", plan.Tasks[0].Where());
        Assert.Empty(plan.Tasks[0].Alternatives);
    }

    [Fact]
    public void Time_objectives_need_throughput_estimates()
    {
        var problem = Problem([Task(0, At("aws/us-east-1", 1m)), Task(1, At("gcp/us-central1", 1m))], [new TaskEdge(0, 1, 10m)],
            throughput: ThroughputGrid.Empty()) with { Objective = PlacementObjective.Time };
        var e = Assert.Throws<NoFeasiblePlanException>(() => Optimizer.Optimize(problem));
        Assert.Equal(PlacementConstraint.Throughput, e.Constraint);
        Assert.Contains("no throughput estimate", e.Message);

        // Under the cost objective the plan stands; only its makespan is unknown.
        var plan = Optimizer.Optimize(problem with { Objective = PlacementObjective.Cost });
        Assert.Null(plan.Makespan);
        Assert.Null(plan.Edges[0].TransferTime);
        Assert.Null(plan.Tasks[1].Start);
    }

    [Fact]
    public void A_peering_agreement_changes_the_choice()
    {
        var free = PeeringAgreement.Free("aws-gcp", "aws", "us-east-1", "gcp", "");
        var plan = Optimizer.Optimize(Problem(
            [Task(0, At("aws/us-east-1", 1.00m)), Task(1, At("gcp/us-central1", 0.50m), At("aws/us-east-1", 0.60m))],
            [new TaskEdge(0, 1, 500m)], adjuster: free));
        Assert.Equal("gcp/us-central1", plan.Tasks[1].Where());
        Assert.Equal(0m, plan.EgressCost);
        Assert.Equal(1.50m, plan.TotalCost);
    }

    [Fact]
    public void The_method_follows_the_shape()
    {
        Candidate[] two = [At("aws/us-east-1", 1m), At("gcp/us-central1", 0.9m)];
        var chain = Problem([Task(0, two), Task(1, two), Task(2, two)], [new TaskEdge(0, 1, 10m), new TaskEdge(1, 2, 10m), new TaskEdge(1, 2, 5m)]);
        Assert.Equal(SolveMethod.ChainDynamicProgram, Optimizer.Optimize(chain).Method);
        var independent = Problem([Task(0, two), Task(1, two)]);
        Assert.Equal(SolveMethod.ChainDynamicProgram, Optimizer.Optimize(independent).Method);
        Assert.Equal(SolveMethod.VariableElimination, Optimizer.Optimize(independent with { Objective = PlacementObjective.Time }).Method);
        var fanOut = Problem([Task(0, two), Task(1, two), Task(2, two)], [new TaskEdge(0, 1, 10m), new TaskEdge(0, 2, 10m)]);
        Assert.Equal(SolveMethod.VariableElimination, Optimizer.Optimize(fanOut).Method);
        Assert.Equal(SolveMethod.VariableElimination, Optimizer.Optimize(fanOut with { Objective = PlacementObjective.Time }).Method);
        Assert.Equal(SolveMethod.VariableElimination,
            Optimizer.Optimize(fanOut with { Objective = PlacementObjective.CostUnderDeadline, Deadline = TimeSpan.FromHours(3) }).Method);
        // A budget the elimination's optimum breaks (the fastest plan keeps all in AWS: $3/h) sends the search on to CP-SAT.
        var fromAws = fanOut with { Tasks = [Task(0, At("aws/us-east-1", 1m)), Task(1, two), Task(2, two)], Objective = PlacementObjective.Time };
        Assert.Equal(SolveMethod.VariableElimination, Optimizer.Optimize(fromAws).Method);
        var withinBudget = Optimizer.Optimize(fromAws with { MaxHourlyCost = 2.9m });
        Assert.Equal(SolveMethod.IntegerProgram, withinBudget.Method);
        Assert.Equal(2.9m, withinBudget.HourlyCost);

        // Four layers of three tasks, each joined to every task of the next: 81 source-to-sink paths, too many to
        // be terms of the elimination when time matters (CP-SAT takes them), none at all under the cost objective.
        var layered = Problem([.. Enumerable.Range(0, 12).Select(t => Task(t, two))],
            [.. from t in Enumerable.Range(0, 9) from u in Enumerable.Range(0, 3) select new TaskEdge(t, (t / 3 + 1) * 3 + u, 1m)]);
        Assert.Equal(SolveMethod.IntegerProgram, Optimizer.Optimize(layered with { Objective = PlacementObjective.Time }).Method);
        var eliminate = new PlacementOptimizer(new OptimizerOptions { Method = SolveMethod.VariableElimination });
        Assert.Equal(SolveMethod.VariableElimination, eliminate.Optimize(layered).Method);
        Assert.Contains("at most 64 source-to-sink paths",
            Assert.Throws<ArgumentException>(() => eliminate.Optimize(layered with { Objective = PlacementObjective.Time })).Message);

        Assert.Throws<ArgumentException>(() => new PlacementOptimizer(new OptimizerOptions { Method = SolveMethod.ChainDynamicProgram }).Optimize(fanOut));
        Assert.Throws<ArgumentException>(() => new PlacementOptimizer(new OptimizerOptions { Method = SolveMethod.Scan }).Optimize(chain));
        var forced = new PlacementOptimizer(new OptimizerOptions { Method = SolveMethod.IntegerProgram }).Optimize(Problem([Task(0, two)]));
        Assert.Equal(SolveMethod.IntegerProgram, forced.Method);
        Assert.Equal("gcp/us-central1", forced.Tasks[0].Where());
    }

    [Fact]
    public void Malformed_problems_are_refused_with_the_reason()
    {
        Candidate[] one = [At("aws/us-east-1", 1m)];
        void Refused(PlacementProblem problem, string message) =>
            Assert.Contains(message, Assert.Throws<ArgumentException>(() => Optimizer.Optimize(problem)).Message);

        Refused(Problem([Task(0, one), Task(1, one)], [new TaskEdge(0, 1, 1m), new TaskEdge(1, 0, 1m)]), "the dependencies form a cycle");
        Refused(Problem([Task(1, one)]), "task 't1' has index 1 at position 0");
        Refused(Problem([Task(0, one)]) with { Objective = PlacementObjective.CostUnderDeadline }, "needs a deadline");
        Refused(Problem([Task(0, At("aws/us-east-1", 1m, rank: 1), At("aws/us-west-2", 1m))]), "all ranked (1, 2, ...) or all unranked (0)");
        Refused(Problem([Task(0, one), Task(1, one)], [new TaskEdge(0, 2, 1m)]), "edge 0 -> 2 names a task outside 0..1");
        Refused(Problem([Task(0, one), Task(1, one)], [new TaskEdge(0, 1, -1m)]), "has -1 GB");
        Refused(Problem([Task(0, At("aws/us-east-1", -1m))]), "hourly cost -1 is negative");
        Refused(Problem([Task(0, At("aws/us-east-1", 1m) with { Region = "" })]), "provider and region are required");
        Refused(Problem([]), "at least one task");

        var e = Assert.Throws<NoFeasiblePlanException>(() => Optimizer.Optimize(Problem([Task(0, one), Task(1)])));
        Assert.Equal(PlacementConstraint.Candidates, e.Constraint);
    }

    [Fact]
    public void A_cancelled_search_stops()
    {
        Candidate[] two = [At("aws/us-east-1", 1m), At("gcp/us-central1", 0.9m)];
        var fanOut = Problem([Task(0, two), Task(1, two), Task(2, two)], [new TaskEdge(0, 1, 10m), new TaskEdge(0, 2, 10m)])
            with { Objective = PlacementObjective.Time };
        Assert.ThrowsAny<OperationCanceledException>(() => Optimizer.Optimize(fanOut, new CancellationToken(canceled: true)));
    }
}
