using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sky.Accounting.Api;
using Sky.Accounting.Billing;
using Sky.Accounting.Focus;
using Sky.Accounting.Ledger;
using Sky.Accounting.Peering;
using Sky.Accounting.Quotes;
using Sky.Accounting.Usage;
using Sky.Hosting.Pricing;
using Sky.Pricing;
using Sky.Hosting;
using Sky.Hosting.Options;
using StackExchange.Redis;

namespace Sky.Accounting;

public static class AccountingHosting
{
    /// <summary>Adds the accounting service (`accounting` in `--services`) to a Sky.Mesh host.</summary>
    public static WebApplicationBuilder AddSkyAccounting(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddSingleton<IPeeringStore>(sp => sp.GetRequiredService<MeshOptions>().Store.IsRedis
            ? new RedisPeeringStore(sp.GetRequiredService<IConnectionMultiplexer>())
            : new MemoryPeeringStore());
        services.TryAddSingleton<PeeringRegistry>();
        // Usage: rated with the shared pricing engine, posted once per key to the ledger (Redis with --store redis://).
        services.TryAddSingleton<ILedger>(sp => sp.GetRequiredService<MeshOptions>().Store.IsRedis
            ? new RedisLedger(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<TimeProvider>())
            : new MemoryLedger(sp.GetRequiredService<TimeProvider>()));
        services.AddPricing();
        // Billing periods: monthly by default; Accounting:BillingPeriod = daily for short periods (demos, tests).
        services.TryAddSingleton(sp => new BillingCalendar(Enum.Parse<PeriodLength>(
            sp.GetRequiredService<IConfiguration>()["Accounting:BillingPeriod"] is { Length: > 0 } length ? length : nameof(PeriodLength.Monthly), ignoreCase: true)));
        services.TryAddSingleton<UsagePosting>();
        // Billing: invoices, settlements and the tenants' billing journals (Redis with --store redis://).
        services.TryAddSingleton<IBillingStore>(sp => sp.GetRequiredService<MeshOptions>().Store.IsRedis
            ? new RedisBillingStore(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<TimeProvider>())
            : new MemoryBillingStore(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<BillingSignal>();
        services.TryAddSingleton(sp => new FocusExporter(sp.GetRequiredService<ILedger>(), sp.GetRequiredService<BillingCalendar>()));
        services.TryAddSingleton<FocusExportRpc>();
        services.TryAddSingleton<UsageJournal>();
        services.TryAddSingleton<BillingPeriods>();
        services.TryAddSingleton<BillingStreams>();
        services.TryAddSingleton<BillingFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<BillingFeed>());
        // Tenants' own queues for their billing events: Accounting:BillingQueues:<tenant> = queue URI.
        services.TryAddSingleton(sp => sp.GetRequiredService<IConfiguration>().GetSection("Accounting").Get<BillingQueueOptions>() ?? new BillingQueueOptions());
        services.TryAddSingleton<BillingQueueDelivery>();
        services.AddHostedService(sp => sp.GetRequiredService<BillingQueueDelivery>());
        // Quotes from placement and transfer, and the ends of their jobs and transfers (Redis with --store redis://).
        services.TryAddSingleton<IQuoteStore>(sp => sp.GetRequiredService<MeshOptions>().Store.IsRedis
            ? new RedisQuoteStore(sp.GetRequiredService<IConnectionMultiplexer>())
            : new MemoryQuoteStore());
        services.TryAddSingleton<QuoteRecords>();
        services.TryAddSingleton<PriceBookVerifier>();
        services.TryAddSingleton<QuoteQueries>();
        services.TryAddSingleton<UsageRecords>();
        services.TryAddSingleton<UsageQueries>();
        services.AddHostedService<UsageSubscriber>();
        return builder.AddSkyService(MeshService.Accounting, endpoints => endpoints.MapGrpcService<AccountingApi>());
    }
}
