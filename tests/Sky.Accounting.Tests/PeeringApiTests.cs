using Sky.Hosting.Peering;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Sky.Accounting.V1;
using Sky.Common.V1;
using Sky.Events.V1;
using Sky.Hosting.Events;
using Sky.Placement.Catalog;
using Sky.Pricing;
using static Sky.Accounting.Tests.PeeringHarness;
using PeeringAgreement = Sky.Accounting.V1.PeeringAgreement;
using PeeringTerms = Sky.Accounting.V1.PeeringTerms;

namespace Sky.Accounting.Tests;

/// <summary>The peering RPCs over a TestServer (memory store, fake clock): every rule of accounting.proto and the events.</summary>
public sealed class PeeringApiTests
{
    private static readonly DateTimeOffset T = Start;

    [Fact]
    public async Task Create_stores_the_agreement_and_announces_it_once()
    {
        await using var h = await StartAsync();
        var request = Free("aws-gcp");
        request.Description = "settlement-free interconnect";
        var created = await h.CreateAsync(request);

        Assert.Equal(("aws-gcp", "aws", "gcp", PeeringTerms.Free), (created.AgreementId, created.ProviderA, created.ProviderB, created.Terms));
        Assert.Equal(At(T), created.EffectiveFrom);   // unset means now
        Assert.Null(created.EffectiveUntil);
        Assert.Equal(At(T), created.CreatedAt);
        Assert.Equal("settlement-free interconnect", created.Description);
        Assert.Equal(created, Assert.Single(await h.ListAsync()));

        var e = Assert.Single(await h.Events.SettledAsync(1));
        Assert.Equal(("peering.agreement.created", "aws-gcp"), (e.Type, e.Subject));
        var data = Assert.IsType<PeeringAgreementCreated>(e.Data);
        Assert.Equal(created, data.Agreement);
        Assert.Equal(At(T), data.Time);
        Assert.Equal(T, e.Time);
    }

    [Fact]
    public async Task The_server_picks_an_id_when_none_is_given()
    {
        await using var h = await StartAsync();
        var first = await h.CreateAsync(Free(""));
        var second = await h.CreateAsync(Free("", "azure", "aws"));
        Assert.Matches("^[a-z0-9-]{1,63}$", first.AgreementId);
        Assert.StartsWith("aws-gcp-", first.AgreementId);
        Assert.StartsWith("aws-azure-", second.AgreementId);
        Assert.Equal(2, (await h.ListAsync()).Count);
        Assert.Equal([first.AgreementId, second.AgreementId], (await h.Events.SettledAsync(2)).Select(e => e.Subject));
    }

    [Fact]
    public async Task A_retry_returns_the_stored_agreement_and_other_terms_under_the_same_id_are_already_exists()
    {
        await using var h = await StartAsync();
        var request = new CreatePeeringAgreementRequest
        {
            AgreementId = "aws-gcp", ProviderA = "aws", ProviderB = "gcp", Terms = PeeringTerms.Discounted, DiscountBps = 2500,
            EffectiveUntil = At(T.AddDays(30)),
        };
        var created = await h.CreateAsync(request);

        h.Clock!.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(created, await h.CreateAsync(request));          // effective_from unset: "now" of the first call stands
        var swapped = request.Clone();
        (swapped.ProviderA, swapped.ProviderB) = ("gcp", "aws");
        Assert.Equal(created, await h.CreateAsync(swapped));          // the pair has no order
        var explicitFrom = request.Clone();
        explicitFrom.EffectiveFrom = At(T);
        Assert.Equal(created, await h.CreateAsync(explicitFrom));

        foreach (var other in new Action<CreatePeeringAgreementRequest>[]
                 {
                     r => r.DiscountBps = 2000,
                     r => r.ProviderB = "azure",
                     r => r.EffectiveUntil = null,
                     r => r.EffectiveFrom = At(T.AddMinutes(1)),
                     r => r.Description = "other",
                     r => (r.Terms, r.DiscountBps) = (PeeringTerms.Free, 0),
                 })
        {
            var changed = request.Clone();
            other(changed);
            var ex = await FailsAsync(StatusCode.AlreadyExists, () => h.CreateAsync(changed));
            Assert.Equal("aws-gcp", ex.GetRpcStatus()!.GetDetail<ResourceInfo>().ResourceName);
        }
        Assert.Single(await h.ListAsync());
        Assert.Single(await h.Events.SettledAsync(1));
    }

    // Each case: a change to a valid request and the one field it must be reported under.
    private static readonly Dictionary<string, (Action<CreatePeeringAgreementRequest> Change, string Field)> BadCreates = new()
    {
        ["id upper case"] = (r => r.AgreementId = "AWS-GCP", "agreement_id"),
        ["id underscore"] = (r => r.AgreementId = "aws_gcp", "agreement_id"),
        ["id 64 characters"] = (r => r.AgreementId = new string('a', 64), "agreement_id"),
        ["provider_a missing"] = (r => r.ProviderA = "", "provider_a"),
        ["provider_a upper case"] = (r => r.ProviderA = "AWS", "provider_a"),
        ["provider_a malformed"] = (r => r.ProviderA = "-aws", "provider_a"),
        ["provider_b missing"] = (r => r.ProviderB = "", "provider_b"),
        ["provider_b upper case"] = (r => r.ProviderB = "Gcp", "provider_b"),
        ["providers equal"] = (r => r.ProviderB = "aws", "provider_b"),
        ["terms unspecified"] = (r => r.Terms = PeeringTerms.Unspecified, "terms"),
        ["terms unknown"] = (r => r.Terms = (PeeringTerms)42, "terms"),
        ["discount 0"] = (r => (r.Terms, r.DiscountBps) = (PeeringTerms.Discounted, 0), "discount_bps"),
        ["discount 10000"] = (r => (r.Terms, r.DiscountBps) = (PeeringTerms.Discounted, 10000), "discount_bps"),
        ["discount negative"] = (r => (r.Terms, r.DiscountBps) = (PeeringTerms.Discounted, -5), "discount_bps"),
        ["discount on free"] = (r => r.DiscountBps = 100, "discount_bps"),
        ["discount on capped"] = (r => (r.Terms, r.DiscountBps, r.MaxPricePerGb) = (PeeringTerms.Capped, 100, Usd(0.01m)), "discount_bps"),
        ["cap missing"] = (r => r.Terms = PeeringTerms.Capped, "max_price_per_gb"),
        ["cap negative"] = (r => (r.Terms, r.MaxPricePerGb) = (PeeringTerms.Capped, Usd(-0.01m)), "max_price_per_gb"),
        ["cap malformed"] = (r => (r.Terms, r.MaxPricePerGb) = (PeeringTerms.Capped, new Money { CurrencyCode = "USD", Units = 1, Nanos = -5 }), "max_price_per_gb"),
        ["cap in euros"] = (r => (r.Terms, r.MaxPricePerGb) = (PeeringTerms.Capped, Money.FromDecimal(0.01m, "EUR")), "max_price_per_gb.currency_code"),
        ["cap on free"] = (r => r.MaxPricePerGb = Usd(0.01m), "max_price_per_gb"),
        ["cap on discounted"] = (r => (r.Terms, r.DiscountBps, r.MaxPricePerGb) = (PeeringTerms.Discounted, 100, Usd(0.01m)), "max_price_per_gb"),
        ["from invalid"] = (r => r.EffectiveFrom = new Timestamp { Seconds = 253_402_300_800 }, "effective_from"),
        ["until invalid"] = (r => r.EffectiveUntil = new Timestamp { Nanos = -1 }, "effective_until"),
        ["until equal to from"] = (r => (r.EffectiveFrom, r.EffectiveUntil) = (At(T.AddDays(1)), At(T.AddDays(1))), "effective_until"),
        ["until before from"] = (r => (r.EffectiveFrom, r.EffectiveUntil) = (At(T.AddDays(2)), At(T.AddDays(1))), "effective_until"),
        ["until before now"] = (r => r.EffectiveUntil = At(T.AddSeconds(-1)), "effective_until"),
        ["description 201 characters"] = (r => r.Description = new string('x', 201), "description"),
    };

    [Theory]
    [InlineData("id upper case")]
    [InlineData("id underscore")]
    [InlineData("id 64 characters")]
    [InlineData("provider_a missing")]
    [InlineData("provider_a upper case")]
    [InlineData("provider_a malformed")]
    [InlineData("provider_b missing")]
    [InlineData("provider_b upper case")]
    [InlineData("providers equal")]
    [InlineData("terms unspecified")]
    [InlineData("terms unknown")]
    [InlineData("discount 0")]
    [InlineData("discount 10000")]
    [InlineData("discount negative")]
    [InlineData("discount on free")]
    [InlineData("discount on capped")]
    [InlineData("cap missing")]
    [InlineData("cap negative")]
    [InlineData("cap malformed")]
    [InlineData("cap in euros")]
    [InlineData("cap on free")]
    [InlineData("cap on discounted")]
    [InlineData("from invalid")]
    [InlineData("until invalid")]
    [InlineData("until equal to from")]
    [InlineData("until before from")]
    [InlineData("until before now")]
    [InlineData("description 201 characters")]
    public async Task A_bad_create_is_invalid_argument_naming_the_field_and_stores_nothing(string @case)
    {
        await using var h = await StartAsync();
        var (change, field) = BadCreates[@case];
        var request = Free("aws-gcp");
        change(request);
        var ex = await FailsAsync(StatusCode.InvalidArgument, () => h.CreateAsync(request));
        Assert.Equal([field], ViolatedFields(ex));
        Assert.Empty(await h.ListAsync());
        Assert.Empty(await h.Events.SettledAsync(0));
    }

    [Fact]
    public void Every_bad_create_case_is_run() =>
        Assert.Equal(BadCreates.Count, typeof(PeeringApiTests).GetMethod(nameof(A_bad_create_is_invalid_argument_naming_the_field_and_stores_nothing))!
            .GetCustomAttributes(typeof(InlineDataAttribute), false).Length);

    [Fact]
    public async Task Every_bad_field_of_one_request_is_reported_at_once()
    {
        await using var h = await StartAsync();
        var ex = await FailsAsync(StatusCode.InvalidArgument, () => h.CreateAsync(new CreatePeeringAgreementRequest
        {
            AgreementId = "Bad Id", ProviderA = "AWS", ProviderB = "", Terms = PeeringTerms.Capped, DiscountBps = 7,
            EffectiveFrom = At(T.AddDays(1)), EffectiveUntil = At(T), Description = new string('x', 300),
        }));
        Assert.Equal(["agreement_id", "provider_a", "provider_b", "discount_bps", "max_price_per_gb", "effective_until", "description"], ViolatedFields(ex));
    }

    [Fact]
    public async Task Discounted_and_capped_terms_round_trip_and_every_stored_agreement_prices_in_the_peering_book()
    {
        await using var h = await StartAsync();
        var made = new List<PeeringAgreement>
        {
            await h.CreateAsync(Terms("d-min", "aws", "gcp", PeeringTerms.Discounted, bps: 1)),
            await h.CreateAsync(Terms("d-max", "aws", "azure", PeeringTerms.Discounted, bps: 9999)),
            await h.CreateAsync(Terms("c-zero", "gcp", "azure", PeeringTerms.Capped, cap: Usd(0m))),
            await h.CreateAsync(Terms("c-nanos", "aws", "lambda", PeeringTerms.Capped, cap: Usd(0.000000001m))),
            await h.CreateAsync(Terms("free", "gcp", "lambda", PeeringTerms.Free)),
        };
        Assert.Equal(Usd(0.000000001m), made[3].MaxPricePerGb);
        Assert.Equal(9999, made[1].DiscountBps);

        var book = new PeeringBook(await h.ListAsync());
        var inForce = book.InForce(T);
        Assert.Equal(made.Count * 2, inForce.All.Count);
        var byId = inForce.All.ToDictionary(a => a.Id);
        Assert.Equal(0.01m, byId["d-min:aws->gcp"].DiscountPercent);
        Assert.Equal(99.99m, byId["d-max:azure->aws"].DiscountPercent);
        Assert.Equal(0m, byId["c-zero:gcp->azure"].PricePerGb);
        Assert.Equal(0.000000001m, byId["c-nanos:lambda->aws"].PricePerGb);
        Assert.Equal(Sky.Pricing.PeeringTerms.Free, byId["free:gcp->lambda"].Terms);
    }

    [Fact]
    public async Task An_agreement_overlapping_one_of_the_same_pair_in_either_order_is_failed_precondition()
    {
        await using var h = await StartAsync();
        await h.CreateAsync(Free("bounded", from: T.AddDays(10), until: T.AddDays(20)));

        foreach (var (from, until) in new (DateTimeOffset, DateTimeOffset?)[]
                 {
                     (T.AddDays(5), T.AddDays(11)),    // runs into it
                     (T.AddDays(19), null),            // starts inside it, open-ended
                     (T.AddDays(12), T.AddDays(13)),   // inside it
                     (T, null),                        // covers it
                 })
        {
            var ex = await FailsAsync(StatusCode.FailedPrecondition, () => h.CreateAsync(Free("clash", "gcp", "aws", from, until)));
            var violation = Assert.Single(ex.GetRpcStatus()!.GetDetail<PreconditionFailure>().Violations);
            Assert.Equal(("PEERING_AGREEMENT_OVERLAP", "bounded"), (violation.Type, violation.Subject));
            Assert.Contains("bounded", ex.Status.Detail);
        }

        // Touching periods do not overlap (until is exclusive); other pairs are independent.
        await h.CreateAsync(Free("before", "gcp", "aws", T, T.AddDays(10)));
        await h.CreateAsync(Free("after", "aws", "gcp", T.AddDays(20)));
        await h.CreateAsync(Free("other-pair", "aws", "azure", T));
        Assert.Equal(["after", "bounded", "before", "other-pair"], (await h.ListAsync()).Select(a => a.AgreementId));
        Assert.Equal(4, (await h.Events.SettledAsync(4)).Count);
    }

    [Fact]
    public async Task Of_concurrent_overlapping_creates_exactly_one_commits()
    {
        await using var h = await StartAsync();
        var codes = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            try
            {
                await h.CreateAsync(i % 2 == 0 ? Free($"race-{i}") : Free($"race-{i}", "gcp", "aws"));
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        })));
        Assert.Single(codes, c => c == StatusCode.OK);
        Assert.All(codes.Where(c => c != StatusCode.OK), c => Assert.Equal(StatusCode.FailedPrecondition, c));
        Assert.Single(await h.ListAsync());
        Assert.Single(await h.Events.SettledAsync(1));
    }

    [Fact]
    public async Task Delete_after_the_start_sets_effective_until_announces_it_once_and_is_idempotent()
    {
        await using var h = await StartAsync();
        var created = await h.CreateAsync(Free("aws-gcp"));
        h.Clock!.Advance(TimeSpan.FromHours(1));
        var end = T.AddHours(1);

        var ended = (await h.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "aws-gcp" })).Agreement;
        var expected = created.Clone();
        expected.EffectiveUntil = At(end);
        Assert.Equal(expected, ended);
        Assert.Equal(expected, Assert.Single(await h.ListAsync()));

        h.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(expected, (await h.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "aws-gcp" })).Agreement);
        Assert.Equal(expected, (await h.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest
        {
            AgreementId = "aws-gcp", EndTime = At(T.AddDays(1)),
        })).Agreement);

        var events = await h.Events.SettledAsync(2);
        Assert.Equal(["peering.agreement.created", "peering.agreement.ended"], events.Select(e => e.Type));
        var data = Assert.IsType<PeeringAgreementEnded>(events[1].Data);
        Assert.Equal((expected, false, At(end), "aws-gcp"), (data.Agreement, data.Removed, data.Time, events[1].Subject));

        // Ended, it no longer blocks a new agreement for the pair from its end on.
        await h.CreateAsync(Free("aws-gcp-2", "gcp", "aws"));
    }

    [Fact]
    public async Task Delete_with_an_end_time_ends_it_then_and_an_earlier_end_shortens_it()
    {
        await using var h = await StartAsync();
        await h.CreateAsync(Free("aws-gcp"));
        var later = (await h.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "aws-gcp", EndTime = At(T.AddDays(7)) })).Agreement;
        Assert.Equal(At(T.AddDays(7)), later.EffectiveUntil);
        Assert.Equal(["aws-gcp"], (await h.ListAsync(activeAt: T.AddDays(6))).Select(a => a.AgreementId));
        Assert.Empty(await h.ListAsync(activeAt: T.AddDays(7)));

        h.Clock!.Advance(TimeSpan.FromDays(1));
        var now = (await h.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "aws-gcp" })).Agreement;
        Assert.Equal(At(T.AddDays(1)), now.EffectiveUntil);

        var ends = (await h.Events.SettledAsync(3)).Skip(1).Select(e => ((PeeringAgreementEnded)e.Data).Agreement.EffectiveUntil).ToList();
        Assert.Equal([At(T.AddDays(7)), At(T.AddDays(1))], ends);
    }

    [Fact]
    public async Task Delete_before_the_start_removes_it_for_good()
    {
        await using var h = await StartAsync();
        var created = await h.CreateAsync(Free("future", from: T.AddDays(1), until: T.AddDays(3)));

        var reply = await h.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "future" });
        Assert.Null(reply.Agreement);
        Assert.Empty(await h.ListAsync());
        // Again: still removed, nothing new published.
        Assert.Null((await h.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "future" })).Agreement);

        var events = await h.Events.SettledAsync(2);
        Assert.Equal(2, events.Count);
        var removed = Assert.IsType<PeeringAgreementEnded>(events[1].Data);
        Assert.True(removed.Removed);
        Assert.Equal(("future", created.EffectiveFrom, created.EffectiveFrom), (removed.Agreement.AgreementId, removed.Agreement.EffectiveFrom, removed.Agreement.EffectiveUntil));

        // Its id is not given out again (subscribers treat a removal as final); the period is free for another id.
        await FailsAsync(StatusCode.AlreadyExists, () => h.CreateAsync(Free("future", from: T.AddDays(1), until: T.AddDays(3))));
        await h.CreateAsync(Free("future-2", from: T.AddDays(1), until: T.AddDays(3)));
    }

    [Fact]
    public async Task An_end_time_at_or_before_the_start_of_a_future_agreement_removes_it()
    {
        await using var h = await StartAsync();
        await h.CreateAsync(Free("future", from: T.AddDays(2)));
        Assert.Null((await h.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "future", EndTime = At(T.AddDays(2)) })).Agreement);
        Assert.Empty(await h.ListAsync());

        await h.CreateAsync(Free("later", from: T.AddDays(2)));
        var ended = (await h.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "later", EndTime = At(T.AddDays(4)) })).Agreement;
        Assert.Equal((At(T.AddDays(2)), At(T.AddDays(4))), (ended.EffectiveFrom, ended.EffectiveUntil));
    }

    [Fact]
    public async Task A_bad_delete_is_invalid_argument_naming_the_field_and_an_unknown_id_is_not_found()
    {
        await using var h = await StartAsync();
        await h.CreateAsync(Free("aws-gcp"));
        h.Clock!.Advance(TimeSpan.FromMinutes(1));

        foreach (var (request, field) in new (DeletePeeringAgreementRequest, string)[]
                 {
                     (new() { AgreementId = "" }, "agreement_id"),
                     (new() { AgreementId = "Not An Id" }, "agreement_id"),
                     (new() { AgreementId = "aws-gcp", EndTime = At(T) }, "end_time"),   // a minute ago
                     (new() { AgreementId = "aws-gcp", EndTime = new Timestamp { Seconds = -62_135_596_801 } }, "end_time"),
                 })
        {
            var ex = await FailsAsync(StatusCode.InvalidArgument, async () => await h.Operator.DeletePeeringAgreementAsync(request));
            Assert.Equal([field], ViolatedFields(ex));
        }
        var missing = await FailsAsync(StatusCode.NotFound, async () =>
            await h.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "nope" }));
        Assert.Equal("nope", missing.GetRpcStatus()!.GetDetail<ResourceInfo>().ResourceName);

        Assert.Null(Assert.Single(await h.ListAsync()).EffectiveUntil);
        Assert.Single(await h.Events.SettledAsync(1));
    }

    [Fact]
    public async Task List_filters_by_provider_and_time_newest_start_first_in_pages()
    {
        await using var h = await StartAsync();
        await h.CreateAsync(Free("a", "aws", "gcp", T.AddDays(-10), T.AddDays(-5)));
        await h.CreateAsync(Free("b", "gcp", "aws", T.AddDays(-5)));
        await h.CreateAsync(Free("c", "azure", "aws", T.AddDays(1)));
        await h.CreateAsync(Free("d", "gcp", "azure", T.AddDays(-1), T.AddDays(2)));
        await h.CreateAsync(Free("e", "lambda", "azure", T.AddDays(-1)));

        Assert.Equal(["c", "d", "e", "b", "a"], (await h.ListAsync()).Select(a => a.AgreementId));
        Assert.Equal(["c", "b", "a"], (await h.ListAsync(provider: "aws")).Select(a => a.AgreementId));
        Assert.Equal(["d", "e", "b"], (await h.ListAsync(activeAt: T)).Select(a => a.AgreementId));
        Assert.Equal(["a"], (await h.ListAsync(activeAt: T.AddDays(-10))).Select(a => a.AgreementId));
        Assert.Equal(["b"], (await h.ListAsync(activeAt: T.AddDays(-5))).Select(a => a.AgreementId));   // from inclusive, until exclusive
        Assert.Equal(["c", "d", "e"], (await h.ListAsync(provider: "azure", activeAt: T.AddDays(1))).Select(a => a.AgreementId));
        Assert.Empty(await h.ListAsync(provider: "oracle"));
        Assert.Equal(["c", "d", "e", "b", "a"], (await h.ListAsync(pageSize: 2)).Select(a => a.AgreementId));

        var first = await h.Operator.ListPeeringAgreementsAsync(new ListPeeringAgreementsRequest { Page = new PageRequest { PageSize = 2 } });
        Assert.Equal(2, first.Agreements.Count);
        Assert.NotEmpty(first.Page.NextPageToken);

        foreach (var (request, field) in new (ListPeeringAgreementsRequest, string)[]
                 {
                     (new() { Provider = "AWS" }, "provider"),
                     (new() { Provider = "a b" }, "provider"),
                     (new() { ActiveAt = new Timestamp { Nanos = 1_000_000_000 } }, "active_at"),
                     (new() { Page = new PageRequest { PageSize = -1 } }, "page.page_size"),
                     (new() { Page = new PageRequest { PageToken = "not-a-token" } }, "page.page_token"),
                 })
        {
            var ex = await FailsAsync(StatusCode.InvalidArgument, async () => await h.Operator.ListPeeringAgreementsAsync(request));
            Assert.Equal([field], ViolatedFields(ex));
        }
    }

    [Fact]
    public async Task Tenants_and_providers_list_agreements_but_only_the_operator_writes()
    {
        await using var h = await StartAsync();
        await h.CreateAsync(Free("aws-gcp"));
        foreach (var (kind, scope) in new[] { (PrincipalKind.Tenant, "acme"), (PrincipalKind.Provider, "aws") })
        {
            var client = await h.ClientAsync(kind, scope);
            Assert.Equal("aws-gcp", Assert.Single((await client.ListPeeringAgreementsAsync(new ListPeeringAgreementsRequest())).Agreements).AgreementId);
            await FailsAsync(StatusCode.PermissionDenied, async () => await client.CreatePeeringAgreementAsync(Free("aws-azure", "aws", "azure")));
            await FailsAsync(StatusCode.PermissionDenied, async () =>
                await client.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "aws-gcp" }));
        }
        await FailsAsync(StatusCode.Unauthenticated, async () =>
            await h.Mesh.Client<Sky.Accounting.V1.Accounting.AccountingClient>(token: null).ListPeeringAgreementsAsync(new ListPeeringAgreementsRequest()));
        Assert.Null(Assert.Single(await h.ListAsync()).EffectiveUntil);
        Assert.Single(await h.Events.SettledAsync(1));
    }

    [Fact]
    public async Task An_agreement_created_over_the_rpc_reaches_placement()
    {
        await using var h = await StartAsync("all", fakeClock: false);
        var feed = h.Mesh.Services.GetRequiredService<PeeringFeed>();
        var created = await h.CreateAsync(Free("aws-gcp"));

        var until = DateTime.UtcNow.AddSeconds(5);
        while (feed.Book.All.Count == 0 && DateTime.UtcNow < until) await Task.Delay(20);
        Assert.Equal(created, Assert.Single(feed.Book.All));
        Assert.True(feed.InForce().Covers("aws", "us-east-1", "gcp", "us-central1"));

        await h.Operator.DeletePeeringAgreementAsync(new DeletePeeringAgreementRequest { AgreementId = "aws-gcp" });
        until = DateTime.UtcNow.AddSeconds(5);
        while (feed.Book.All.Single().EffectiveUntil is null && DateTime.UtcNow < until) await Task.Delay(20);
        Assert.NotNull(feed.Book.All.Single().EffectiveUntil);
        Assert.False(feed.InForce().Covers("aws", "us-east-1", "gcp", "us-central1"));
    }

    private static Money Usd(decimal amount) => Money.FromDecimal(amount, "USD");

    private static CreatePeeringAgreementRequest Terms(string id, string a, string b, PeeringTerms terms, int bps = 0, Money? cap = null) => new()
    {
        AgreementId = id, ProviderA = a, ProviderB = b, Terms = terms, DiscountBps = bps, MaxPricePerGb = cap,
    };
}
