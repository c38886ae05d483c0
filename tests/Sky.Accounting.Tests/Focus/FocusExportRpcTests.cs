using System.Text;
using Grpc.Core;
using Sky.Accounting.Focus;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Hosting.Identity;

namespace Sky.Accounting.Tests.Focus;

/// <summary>ExportFocus as the gRPC adapter calls it: tenants export their own data only, every refusal comes before any data.</summary>
public sealed class FocusExportRpcTests
{
    private static readonly Principal Acme = new(PrincipalKind.Tenant, "acme", "key-acme");
    private static readonly Principal Operator = new(PrincipalKind.Operator, "", "key-op");

    private static async Task<FocusBooks> BooksAsync()
    {
        var books = new FocusBooks();
        var end = FocusBooks.January.AddDays(3);
        await books.PostAsync(books.Compute("1", "acme", "aws", end, 3600, 0.5m), books.Compute("2", "globex", "gcp", end, 3600, 0.5m));
        return books;
    }

    [Fact]
    public async Task A_tenant_exports_its_own_file_with_or_without_naming_itself()
    {
        var books = await BooksAsync();
        var rpc = new FocusExportRpc(books.Exporter);
        // The RPC names the tenant's invoice of the period on every row.
        var file = new MemoryStream();
        await books.Exporter.WriteAsync(books.Exporter.Scope("acme", "2026-01", Sky.Accounting.Billing.InvoiceIds.For("2026-01", "acme")), file);
        var expected = file.ToArray();

        foreach (var request in new[] { new ExportFocusRequest { PeriodId = "2026-01" }, new ExportFocusRequest { TenantId = "acme", PeriodId = "2026-01" } })
        {
            var stream = new RecordingStream();
            await rpc.ExportAsync(request, Acme, stream, CancellationToken.None);
            Assert.Equal(expected, stream.Bytes);
            Assert.All(stream.Messages, m => Assert.InRange(m.Data.Length, 1, 64 * 1024));
        }
    }

    [Fact]
    public async Task The_operator_names_the_tenant()
    {
        var books = await BooksAsync();
        var stream = new RecordingStream();
        await new FocusExportRpc(books.Exporter).ExportAsync(new ExportFocusRequest { TenantId = "globex", PeriodId = "2026-01" }, Operator, stream, CancellationToken.None);

        Assert.Contains(",globex,", Encoding.UTF8.GetString(stream.Bytes), StringComparison.Ordinal);
        Assert.DoesNotContain(",acme,", Encoding.UTF8.GetString(stream.Bytes), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tenant", "globex", "2026-01", StatusCode.PermissionDenied, null)]
    [InlineData("provider", "acme", "2026-01", StatusCode.PermissionDenied, null)]
    [InlineData("operator", "", "2026-01", StatusCode.InvalidArgument, "tenant_id")]
    [InlineData("tenant", "", "", StatusCode.InvalidArgument, "period_id")]
    [InlineData("operator", "acme", "January", StatusCode.InvalidArgument, "period_id")]
    public async Task A_refused_export_sends_nothing(string kind, string tenant, string period, StatusCode code, string? field)
    {
        var caller = kind switch
        {
            "tenant" => Acme,
            "provider" => new Principal(PrincipalKind.Provider, "aws", "key-aws"),
            _ => Operator,
        };
        var stream = new RecordingStream();
        var rpc = new FocusExportRpc((await BooksAsync()).Exporter);

        var error = await Assert.ThrowsAsync<RpcException>(() => rpc.ExportAsync(new ExportFocusRequest { TenantId = tenant, PeriodId = period }, caller, stream, CancellationToken.None));

        Assert.Equal(code, error.StatusCode);
        Assert.Empty(stream.Messages);
        if (field is not null)
        {
            var violation = Assert.Single(error.GetRpcStatus()!.GetDetail<Google.Rpc.BadRequest>()!.FieldViolations);
            Assert.Equal(field, violation.Field);
        }
    }

    private sealed class RecordingStream : IServerStreamWriter<ExportFocusResponse>
    {
        public List<ExportFocusResponse> Messages { get; } = [];
        public WriteOptions? WriteOptions { get; set; }
        public byte[] Bytes => [.. Messages.SelectMany(m => m.Data.ToByteArray())];

        public Task WriteAsync(ExportFocusResponse message)
        {
            Messages.Add(message);
            return Task.CompletedTask;
        }
    }
}
