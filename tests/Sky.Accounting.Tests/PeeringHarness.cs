using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Hosting.Events;
using Sky.Testing;
using AccountingClient = Sky.Accounting.V1.Accounting.AccountingClient;

namespace Sky.Accounting.Tests;

/// <summary>
/// An accounting host on a fake clock with an operator, a provider and a tenant client, and every event on the
/// `peering` topic as it was published.
/// </summary>
internal sealed class PeeringHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-11-01T12:00:00Z");

    private readonly IAsyncDisposable _subscription;

    private PeeringHarness(TestMesh mesh, FakeTimeProvider? clock, PeeringEvents events, IAsyncDisposable subscription)
    {
        Mesh = mesh;
        Clock = clock;
        Events = events;
        _subscription = subscription;
        Operator = mesh.Client<AccountingClient>();
    }

    public TestMesh Mesh { get; }
    /// <summary>The host's clock; null when the host runs on the system clock.</summary>
    public FakeTimeProvider? Clock { get; }
    public PeeringEvents Events { get; }
    public AccountingClient Operator { get; }
    public DateTimeOffset Now => Clock?.GetUtcNow() ?? DateTimeOffset.UtcNow;

    /// <summary>A host of <paramref name="services"/>; on a fake clock at <see cref="Start"/> unless <paramref name="fakeClock"/> is false.</summary>
    public static async Task<PeeringHarness> StartAsync(string services = "accounting", string store = "memory", bool fakeClock = true,
        Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null)
    {
        var clock = fakeClock ? new FakeTimeProvider(Start) : null;
        var mesh = await TestMesh.StartAsync(services, store, configure: b =>
        {
            if (clock is not null) b.Services.AddSingleton<TimeProvider>(clock);
            configure?.Invoke(b);
        });
        var events = new PeeringEvents();
        var subscription = mesh.Services.GetRequiredService<IEventBus>().Subscribe(Topics.Peering, "peering-tests", events.RecordAsync);
        return new PeeringHarness(mesh, clock, events, subscription);
    }

    public async Task<AccountingClient> ClientAsync(Sky.Common.V1.PrincipalKind kind, string scope) =>
        Mesh.Client<AccountingClient>(await Mesh.IssueKeyAsync(kind, scope));

    public async Task<PeeringAgreement> CreateAsync(CreatePeeringAgreementRequest request) =>
        (await Operator.CreatePeeringAgreementAsync(request)).Agreement;

    public async Task<List<PeeringAgreement>> ListAsync(string provider = "", DateTimeOffset? activeAt = null, int pageSize = 0)
    {
        var all = new List<PeeringAgreement>();
        var request = new ListPeeringAgreementsRequest
        {
            Provider = provider,
            ActiveAt = activeAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
            Page = new PageRequest { PageSize = pageSize },
        };
        while (true)
        {
            var page = await Operator.ListPeeringAgreementsAsync(request);
            all.AddRange(page.Agreements);
            if (page.Page.NextPageToken.Length == 0) return all;
            request.Page.PageToken = page.Page.NextPageToken;
        }
    }

    public static CreatePeeringAgreementRequest Free(string id, string a = "aws", string b = "gcp", DateTimeOffset? from = null, DateTimeOffset? until = null) => new()
    {
        AgreementId = id,
        ProviderA = a,
        ProviderB = b,
        Terms = PeeringTerms.Free,
        EffectiveFrom = from is { } f ? Timestamp.FromDateTimeOffset(f) : null,
        EffectiveUntil = until is { } u ? Timestamp.FromDateTimeOffset(u) : null,
    };

    public static Timestamp At(DateTimeOffset time) => Timestamp.FromDateTimeOffset(time);

    public static async Task<RpcException> FailsAsync(StatusCode code, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(ex.StatusCode == code, $"expected {code}, got {ex.StatusCode}: {ex.Status.Detail}");
        return ex;
    }

    /// <summary>The fields the INVALID_ARGUMENT's BadRequest names, in order.</summary>
    public static List<string> ViolatedFields(RpcException ex)
    {
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        var badRequest = ex.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        Assert.All(badRequest.FieldViolations, v => Assert.False(string.IsNullOrWhiteSpace(v.Description)));
        return badRequest.FieldViolations.Select(v => v.Field).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await _subscription.DisposeAsync();
        await Mesh.DisposeAsync();
    }
}

/// <summary>The events seen on the `peering` topic, in order of arrival.</summary>
internal sealed class PeeringEvents
{
    private readonly ConcurrentQueue<SkyEvent> _seen = new();

    public IReadOnlyList<SkyEvent> All => [.. _seen];

    public Task RecordAsync(SkyEvent e, CancellationToken _)
    {
        _seen.Enqueue(e);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Waits until <paramref name="count"/> events arrived, then a little longer so a duplicate would show, and
    /// returns them all: the caller asserts the exact count.
    /// </summary>
    public async Task<IReadOnlyList<SkyEvent>> SettledAsync(int count, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (_seen.Count < count && DateTime.UtcNow < until) await Task.Delay(20);
        await Task.Delay(200);
        return All;
    }
}
