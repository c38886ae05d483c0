using Sky.Placement.Providers;

namespace Sky.Placement.Tests.Providers;

/// <summary>The compact fault text of <c>--sim-faults</c>: every kind and option, and errors that point at the offending character.</summary>
public sealed class SimFaultsParseTests
{
    [Fact]
    public void The_example_from_the_brief_parses()
    {
        var faults = SimFaults.Parse("capacity:aws/us-east-1:1;quota:gcp/us-central1;preempt:gcp/*:after=30s");
        Assert.Equal(
            [
                new SimFailureRule(ProvisionFailure.Capacity, new LocationPattern("aws", "us-east-1"), 1),
                new SimFailureRule(ProvisionFailure.Quota, new LocationPattern("gcp", "us-central1")),
            ],
            faults.Failures);
        Assert.Equal([new SimPreemptionRule(new LocationPattern("gcp", "*"), TimeSpan.FromSeconds(30))], faults.Preemptions);
        Assert.Empty(faults.Capacity);
        Assert.Empty(faults.Quotas);
    }

    [Fact]
    public void Every_option_parses()
    {
        var faults = SimFaults.Parse(
            " Capacity:AWS/us-east-1/us-east-1a:2:type=p3.2xlarge,block=region ; provider:azure:count=3 ;"
            + " preempt:lambda:after=1h30m,p=0.25,type=gpu_1x_a10 ; preempt:*:after=250ms;"
            + " limit:gcp/us-central1:vcpus=0,gpus=8; limit:aws/us-east-1:nodes=4,type=p4d.24xlarge;");
        Assert.Equal(
            [
                new SimFailureRule(ProvisionFailure.Capacity, new LocationPattern("aws", "us-east-1", "us-east-1a"), 2, "p3.2xlarge", SimBlockScope.Region),
                new SimFailureRule(ProvisionFailure.Provider, new LocationPattern("azure"), 3),
            ],
            faults.Failures);
        Assert.Equal(
            [
                new SimPreemptionRule(new LocationPattern("lambda"), TimeSpan.FromMinutes(90), 0.25, "gpu_1x_a10"),
                new SimPreemptionRule(new LocationPattern("*"), TimeSpan.FromMilliseconds(250)),
            ],
            faults.Preemptions);
        Assert.Equal([new SimQuota(new CloudLocation("gcp", "us-central1"), 0, 8)], faults.Quotas);
        Assert.Equal([new SimCapacity(new CloudLocation("aws", "us-east-1"), 4, "p4d.24xlarge")], faults.Capacity);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("capacity:aws;")]
    public void Empty_text_and_a_trailing_semicolon_are_fine(string text)
    {
        var faults = SimFaults.Parse(text);
        Assert.True(faults.Failures.Count <= 1);
        Assert.Empty(faults.Preemptions);
    }

    [Theory]
    [InlineData("capacty:aws", 0, "unknown kind 'capacty'")]
    [InlineData("capacity", 8, "expected ':' and a scope")]
    [InlineData("capacity:", 9, "expected a scope")]
    [InlineData("capacity:aws/us east", 15, "unexpected U+0020 in the scope")]
    [InlineData("capacity:a/b/c/d", 14, "at most three parts")]
    [InlineData("capacity:aws//z", 13, "empty part")]
    [InlineData("capacity:aws/us-east-1:x", 23, "expected key=value")]
    [InlineData("capacity:aws/us-east-1:0", 23, "count must be at least 1")]
    [InlineData("capacity:aws:1:2", 15, "the count is given twice")]
    [InlineData("capacity:aws::1", 13, "empty field")]
    [InlineData("capacity:aws:color=red", 13, "unknown option 'color'")]
    [InlineData("capacity:aws:type=a,type=b", 20, "option 'type' is given twice")]
    [InlineData("capacity:aws:type=", 18, "option 'type' has no value")]
    [InlineData("capacity:aws:block=planet", 19, "expected zone, region or provider")]
    [InlineData("capacity:aws:1;;quota:gcp", 15, "empty item")]
    [InlineData("preempt:gcp/*:after=30", 22, "needs a unit")]
    [InlineData("preempt:gcp/*:after=30x", 22, "unknown unit 'x'")]
    [InlineData("preempt:gcp/*:after=s", 20, "expected a number")]
    [InlineData("preempt:gcp/*:p=1.5", 16, "probability in (0, 1]")]
    [InlineData("preempt:gcp/*:3", 14, "takes no count")]
    [InlineData("limit:aws/*:nodes=1", 10, "'*' is not allowed")]
    [InlineData("limit:aws/us-east-1", 19, "needs nodes=, vcpus= or gpus=")]
    [InlineData("limit:aws/us-east-1:type=p3.2xlarge", 20, "give nodes= with it")]
    [InlineData("limit:aws/us-east-1/us-east-1a:gpus=1", 6, "not a zone")]
    [InlineData("limit:aws:nodes=-1", 16, "expected a whole number")]
    public void Errors_name_the_offset_of_the_offending_character(string text, int position, string reason)
    {
        var error = Assert.Throws<SimFaultsException>(() => SimFaults.Parse(text));
        Assert.Equal(position, error.Position);
        Assert.Contains(reason, error.Reason);
        Assert.Contains($"at offset {position}", error.Message);
    }
}
