using Sky.Directory.Catalog;

namespace Sky.Directory.Tests.Catalog;

/// <summary>The Python-literal reader behind GpuInfo, and what GpuInfo takes from a cell.</summary>
public sealed class PythonLiteralTests
{
    [Fact]
    public void Reads_dicts_lists_tuples_strings_numbers_and_constants()
    {
        Assert.True(PythonLiteral.TryParse("{'a': [1, 2.5, -3e2], \"b\": (True, False, None), 'c': 'it\\'s', 'd': {}}", out var value, out _));
        var dict = Assert.IsType<Dictionary<string, object?>>(value);
        Assert.Equal(new object?[] { 1.0, 2.5, -300.0 }, Assert.IsType<List<object?>>(dict["a"]));
        Assert.Equal(new object?[] { true, false, null }, Assert.IsType<List<object?>>(dict["b"]));
        Assert.Equal("it's", dict["c"]);
        Assert.Empty(Assert.IsType<Dictionary<string, object?>>(dict["d"]));
        Assert.True(PythonLiteral.TryParse(" [ 1 , ] ", out var trailing, out _));
        Assert.Single(Assert.IsType<List<object?>>(trailing));
    }

    [Theory]
    [InlineData("{'a': 1")]
    [InlineData("{'a' 1}")]
    [InlineData("['x', ]]")]
    [InlineData("'open")]
    [InlineData("{'a': nan}")]
    [InlineData("")]
    public void Rejects_what_is_not_a_literal(string text)
    {
        Assert.False(PythonLiteral.TryParse(text, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void Rejects_deep_nesting_instead_of_overflowing_the_stack()
    {
        Assert.False(PythonLiteral.TryParse(new string('[', 10_000), out _, out var error));
        Assert.Contains("deeply", error);
    }

    [Fact]
    public void Gpu_info_takes_name_manufacturer_and_per_gpu_memory()
    {
        var aws = GpuInfo.Parse("{'Gpus': [{'Name': 'H100', 'Manufacturer': 'NVIDIA', 'Count': 8, 'MemoryInfo': {'SizeInMiB': 81920}}], 'TotalGpuMemoryInMiB': 655360}", 8, out var error);
        Assert.Null(error);
        Assert.Equal(new GpuInfo("H100", "NVIDIA", 80), aws);

        // GCP: memory only. Azure and TPU rows: the bare name.
        Assert.Equal(new GpuInfo(null, null, 24), GpuInfo.Parse("{'Gpus': [{'MemoryInfo': {'SizeInMiB': 24576}}]}", 1, out _));
        Assert.Equal(new GpuInfo("A100-80GB", null, 0), GpuInfo.Parse("A100-80GB", 1, out _));
        Assert.Null(GpuInfo.Parse("  ", null, out error));
        Assert.Null(error);

        // Only a total: split over the count.
        Assert.Equal(new GpuInfo(null, null, 16), GpuInfo.Parse("{'TotalGpuMemoryInMiB': 65536}", 4m, out _));

        Assert.Null(GpuInfo.Parse("{'Gpus': [", 1, out error));
        Assert.Contains("Python literal", error);
    }
}
