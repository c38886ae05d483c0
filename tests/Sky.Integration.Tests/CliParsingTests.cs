using System.Text;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Time.Testing;
using Sky.Cli;
using Sky.Cli.Commands;
using Sky.Common.V1;
using Sky.Directory.V1;
using Sky.Testing;
using Sky.Hosting.Errors;
using Sky.Naming.V1;

namespace Sky.Integration.Tests;

/// <summary>The CLI's own pieces, without a mesh: flag parsing, caret rendering, the name cache, catalog parts, grid batches.</summary>
public sealed class CliParsingTests
{
    // --prefer / --near / --spot

    [Fact]
    public void Prefer_names_map_to_single_weights()
    {
        Assert.Equal(new Preference { PriceWeight = 1 }, OfferPreference.Parse("cheapest", null, false));
        Assert.Equal(new Preference { LoadWeight = 1 }, OfferPreference.Parse("least-loaded", null, false));
        Assert.Equal(new Preference { DistanceWeight = 1, Near = new Location { Provider = "aws", Region = "us-east-1", Zone = "us-east-1a" } },
            OfferPreference.Parse("nearest=AWS/us-east-1/us-east-1a", null, false));
        Assert.Equal(new Preference { DistanceWeight = 1, Near = new Location { Provider = "gcp", Region = "europe-west4" } },
            OfferPreference.Parse("nearest", "gcp/europe-west4", false));
    }

    [Fact]
    public void Prefer_weights_take_any_subset()
    {
        Assert.Equal(new Preference { PriceWeight = 1, LoadWeight = 0.5 }, OfferPreference.Parse("price=1,load=0.5", null, false));
        Assert.Equal(new Preference { PriceWeight = 0.7, DistanceWeight = 0.3, Near = new Location { Provider = "aws", Region = "eu-west-1" } },
            OfferPreference.Parse("price=0.7, distance=0.3", "aws/eu-west-1", false));
    }

    [Fact]
    public void No_ranking_flags_mean_no_preference_and_near_or_spot_alone_imply_one()
    {
        Assert.Null(OfferPreference.Parse(null, null, false));
        Assert.Null(OfferPreference.Parse("price=0", null, false));
        Assert.Equal(new Preference { DistanceWeight = 1, Near = new Location { Provider = "aws", Region = "us-west-2" } },
            OfferPreference.Parse(null, "aws/us-west-2", false));
        Assert.Equal(new Preference { PriceWeight = 1, Spot = true }, OfferPreference.Parse(null, null, true));
        Assert.Equal(new Preference { PriceWeight = 2, LoadWeight = 1, Spot = true }, OfferPreference.Parse("price=2,load=1", null, true));
    }

    [Theory]
    [InlineData("fastest", null, false, "--prefer: 'fastest' is not")]
    [InlineData("price=-1", null, false, "--prefer: price weight '-1' is not a number >= 0")]
    [InlineData("price=1,price=2", null, false, "--prefer: the price weight is given twice")]
    [InlineData("speed=1", null, false, "--prefer: 'speed=1' is not")]
    [InlineData("distance=1", null, false, "--prefer: ranking by distance needs a reference location")]
    [InlineData("nearest", null, false, "--prefer: ranking by distance needs a reference location")]
    [InlineData("nearest=aws", null, false, "--prefer nearest: 'aws' is not PROVIDER/REGION[/ZONE]")]
    [InlineData("cheapest", "aws/us-east-1", false, "--near: '--prefer cheapest' has no distance weight")]
    [InlineData("nearest=aws/us-east-1", "aws/us-west-2", false, "--near: the reference location is already given")]
    [InlineData("least-loaded", null, true, "--spot: ranks by the spot price, but the ranking has no price weight")]
    public void Bad_ranking_flags_say_what_is_wrong(string? prefer, string? near, bool spot, string message)
    {
        var ex = Assert.Throws<FormatException>(() => OfferPreference.Parse(prefer, near, spot));
        Assert.StartsWith(message, ex.Message);
    }

    // --target

    [Fact]
    public void Target_urls_become_record_endpoints()
    {
        Assert.Equal(new RecordEndpoint { Scheme = "postgres", Host = "10.0.0.5", Port = 5432 }, RecordTarget.Parse("postgres://10.0.0.5:5432"));
        Assert.Equal(new RecordEndpoint { Scheme = "grpc", Host = "Pg.Example.com", Port = 443, Weight = 10, Priority = 2 },
            RecordTarget.Parse("GRPC://Pg.Example.com:443?weight=10&priority=2"));
        Assert.Equal(new RecordEndpoint { Scheme = "https", Host = "2001:db8::1", Port = 8443, Weight = 0 },
            RecordTarget.Parse("https://[2001:db8::1]:8443/?weight=0"));
        Assert.Equal("https://[2001:db8::1]:8443", RecordTarget.ToUrl(RecordTarget.Parse("https://[2001:db8::1]:8443")));
        Assert.Equal("kafka://b-1.kafka:9092", RecordTarget.ToUrl(RecordTarget.Parse("kafka://b-1.kafka:9092")));
    }

    [Theory]
    [InlineData("10.0.0.5:5432", "has no scheme")]
    [InlineData("tcp://db.internal", "has no port")]
    [InlineData("tcp://:5432", "has no host")]
    [InlineData("tcp://db:0", "has port '0', not a number from 1 to 65535")]
    [InlineData("tcp://db:65536", "has port '65536'")]
    [InlineData("tcp://db:5432?weight=heavy", "has weight 'heavy'")]
    [InlineData("tcp://db:5432?priority=70000", "has priority '70000'")]
    [InlineData("tcp://db:5432?colour=red", "has an unknown parameter 'colour'")]
    [InlineData("tcp://db:5432?weight=1&weight=2", "gives weight twice")]
    [InlineData("tcp://db:5432/path", "has a path or user info")]
    [InlineData("tcp://user@db:5432", "has a path or user info")]
    [InlineData("tcp://2001:db8::1:80", "has an IPv6 host without brackets")]
    [InlineData("1tcp://db:1", "has an invalid scheme")]
    public void Bad_target_urls_are_rejected_with_the_reason(string value, string reason)
    {
        var ex = Assert.Throws<FormatException>(() => RecordTarget.Parse(value));
        Assert.StartsWith($"--target: '{value}' {reason}", ex.Message);
    }

    // Other flag values

    [Theory]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("250ms", 250)]
    [InlineData("1m30s250ms", 90_250)]
    [InlineData("90", 90_000)]
    public void Durations_read_like_go_durations(string text, long milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), Flags.ParseDuration("--ttl", text));

    [Theory]
    [InlineData("")]
    [InlineData("1d")]
    [InlineData("s")]
    [InlineData("1.5h")]
    [InlineData("-5s")]
    public void Bad_durations_are_rejected(string text) =>
        Assert.StartsWith("--ttl: ", Assert.Throws<FormatException>(() => Flags.ParseDuration("--ttl", text)).Message);

    [Fact]
    public void Locations_are_lower_cased_and_need_their_parts()
    {
        Assert.Equal(new Location { Provider = "aws", Region = "us-east-1" }, Flags.ParseLocation("--near", "AWS/us-east-1", minParts: 2));
        Assert.Equal(new Location { Provider = "gcp" }, Flags.ParseLocation("--from", "gcp"));
        Assert.Throws<FormatException>(() => Flags.ParseLocation("--near", "aws", minParts: 2));
        Assert.Throws<FormatException>(() => Flags.ParseLocation("--from", "aws//x"));
        Assert.Throws<FormatException>(() => Flags.ParseLocation("--from", "a/b/c/d"));
    }

    [Fact]
    public void Attributes_are_key_value_pairs_and_a_repeated_key_is_an_error()
    {
        Assert.Equal(new Dictionary<string, string> { ["tier"] = "gold", ["note"] = "a=b" }, Flags.ParsePairs("--attr", ["tier=gold", "note=a=b"]));
        Assert.Throws<FormatException>(() => Flags.ParsePairs("--attr", ["=x"]));
        Assert.Throws<FormatException>(() => Flags.ParsePairs("--attr", ["tier"]));
        Assert.Equal("--attr: key 'tier' is given twice", Assert.Throws<FormatException>(() => Flags.ParsePairs("--attr", ["tier=a", "tier=b"])).Message);
    }

    // Carets

    [Fact]
    public void The_caret_sits_under_the_offending_character()
    {
        Assert.Equal("  service=postgres,, x\n                   ^", FieldCaret.Render("service=postgres,, x", 17));
        Assert.Equal("  price<=\n         ^", FieldCaret.Render("price<=", 7));
        Assert.Equal("  a\tb=)\n   \t  ^", FieldCaret.Render("a\tb=)", 4));
        Assert.Equal("  a b\n     ^", FieldCaret.Render("a\nb", 99));
        // One surrogate pair is one character on screen.
        Assert.Equal("  x=\U0001F600,\n     ^", FieldCaret.Render("x=\U0001F600,", 4));
    }

    [Fact]
    public void Offsets_are_read_from_field_violations()
    {
        Assert.True(FieldCaret.TryParse("at 12: unexpected ')'", out var offset, out var message));
        Assert.Equal((12, "unexpected ')'"), (offset, message));
        Assert.False(FieldCaret.TryParse("required", out _, out _));

        var explained = FieldCaret.Explain(RpcErrors.InvalidArgument("selector", "at 17: empty clause between commas"), ("selector", "service=postgres,, x"));
        Assert.NotNull(explained);
        Assert.Equal("selector: empty clause between commas (at character 17)\n  service=postgres,, x\n                   ^", explained.Message);

        Assert.Null(FieldCaret.Explain(RpcErrors.InvalidArgument("page.page_token", "at 3: nope"), ("selector", "x")));
        Assert.Null(FieldCaret.Explain(RpcErrors.InvalidArgument("selector", "too long"), ("selector", "x")));
        Assert.Null(FieldCaret.Explain(RpcErrors.NotFound("record", "a.aws.sky"), ("name", "a.aws.sky")));
    }

    // The name cache

    private static (NameCache Cache, FakeTimeProvider Time, string Dir) NewCache()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sky-name-cache-" + Guid.NewGuid().ToString("N"));
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
        return (new NameCache(dir, time), time, dir);
    }

    private static ResolveResponse Answer(long revision) => new()
    {
        Record = new Sky.Naming.V1.Record
        {
            Name = "pg-1.postgres.us-east-1.aws.sky",
            Revision = revision,
            Ttl = Duration.FromTimeSpan(TimeSpan.FromSeconds(30)),
            Endpoints = { new RecordEndpoint { Scheme = "postgres", Host = "10.0.0.5", Port = 5432 } },
        },
    };

    [Fact]
    public void A_cached_answer_is_served_until_fetch_time_plus_ttl_and_never_after()
    {
        var (cache, time, dir) = NewCache();
        try
        {
            const string endpoint = "http://127.0.0.1:7100";
            var fetchedAt = time.GetUtcNow();
            cache.Put(endpoint, NameCache.Resolve, "pg-1.postgres.us-east-1.aws.sky", Answer(7), fetchedAt, TimeSpan.FromSeconds(30));

            time.Advance(TimeSpan.FromSeconds(30) - TimeSpan.FromTicks(1));
            var hit = cache.TryGet(endpoint, NameCache.Resolve, "pg-1.postgres.us-east-1.aws.sky", ResolveResponse.Parser);
            Assert.NotNull(hit);
            Assert.Equal(Answer(7), hit.Response);
            Assert.Equal(fetchedAt, hit.FetchedAt);
            Assert.Equal(fetchedAt.AddSeconds(30), hit.ExpiresAt);

            time.Advance(TimeSpan.FromTicks(1));
            Assert.Null(cache.TryGet(endpoint, NameCache.Resolve, "pg-1.postgres.us-east-1.aws.sky", ResolveResponse.Parser));
            time.Advance(TimeSpan.FromHours(1));
            Assert.Null(cache.TryGet(endpoint, NameCache.Resolve, "pg-1.postgres.us-east-1.aws.sky", ResolveResponse.Parser));
        }
        finally
        {
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Entries_are_keyed_by_endpoint_kind_and_canonical_name()
    {
        var (cache, time, dir) = NewCache();
        try
        {
            cache.Put("http://a:1", NameCache.Resolve, "PG-1.Postgres.us-east-1.aws.sky.", Answer(1), time.GetUtcNow(), TimeSpan.FromMinutes(5));
            Assert.Equal(1, cache.TryGet("http://a:1", NameCache.Resolve, "pg-1.postgres.us-east-1.aws.sky", ResolveResponse.Parser)?.Response.Record.Revision);
            Assert.Null(cache.TryGet("http://b:1", NameCache.Resolve, "pg-1.postgres.us-east-1.aws.sky", ResolveResponse.Parser));
            Assert.Null(cache.TryGet("http://a:1", NameCache.Lookup, "pg-1.postgres.us-east-1.aws.sky", ResolveResponse.Parser));
            Assert.Null(cache.TryGet("http://a:1", NameCache.Resolve, "pg-2.postgres.us-east-1.aws.sky", ResolveResponse.Parser));

            // A name the grammar rejects is never cached: the service's error must be seen every time.
            cache.Put("http://a:1", NameCache.Resolve, "pg_1.aws.sky", Answer(1), time.GetUtcNow(), TimeSpan.FromMinutes(5));
            Assert.Null(cache.TryGet("http://a:1", NameCache.Resolve, "pg_1.aws.sky", ResolveResponse.Parser));
        }
        finally
        {
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_clock_set_back_before_the_fetch_or_a_zero_ttl_never_serves()
    {
        var (cache, time, dir) = NewCache();
        try
        {
            cache.Put("e", NameCache.Resolve, "a.aws.sky", Answer(1), time.GetUtcNow(), TimeSpan.FromMinutes(5));
            time.AdjustTime(time.GetUtcNow().AddMinutes(-1));
            Assert.Null(cache.TryGet("e", NameCache.Resolve, "a.aws.sky", ResolveResponse.Parser));

            cache.Put("e", NameCache.Resolve, "b.aws.sky", Answer(1), time.GetUtcNow(), TimeSpan.Zero);
            Assert.Null(cache.TryGet("e", NameCache.Resolve, "b.aws.sky", ResolveResponse.Parser));
        }
        finally
        {
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Broken_or_unwritable_cache_files_are_misses_not_failures()
    {
        var (cache, time, dir) = NewCache();
        try
        {
            cache.Put("e", NameCache.Resolve, "a.aws.sky", Answer(1), time.GetUtcNow(), TimeSpan.FromMinutes(5));
            foreach (var file in System.IO.Directory.GetFiles(dir)) File.WriteAllText(file, "{ not json");
            Assert.Null(cache.TryGet("e", NameCache.Resolve, "a.aws.sky", ResolveResponse.Parser));
            foreach (var file in System.IO.Directory.GetFiles(dir))
                File.WriteAllText(file, """{"endpoint":"e","kind":"resolve","name":"a.aws.sky","fetched_at":"2026-05-01T12:00:00+00:00","expires_at":"2026-05-01T13:00:00+00:00","response":"!!"}""");
            Assert.Null(cache.TryGet("e", NameCache.Resolve, "a.aws.sky", ResolveResponse.Parser));

            // The cache folder's parent is a file: nothing can be written, and nothing throws.
            var blocker = Path.Combine(dir, "blocker");
            File.WriteAllText(blocker, "");
            var unwritable = new NameCache(Path.Combine(blocker, "names"), time);
            unwritable.Put("e", NameCache.Resolve, "a.aws.sky", Answer(1), time.GetUtcNow(), TimeSpan.FromMinutes(5));
            Assert.Null(unwritable.TryGet("e", NameCache.Resolve, "a.aws.sky", ResolveResponse.Parser));
            unwritable.Forget("e", "a.aws.sky");
        }
        finally
        {
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Forgetting_an_instance_drops_its_record_and_its_services_lookup()
    {
        var (cache, time, dir) = NewCache();
        try
        {
            var lookup = new LookupResponse { Ttl = Duration.FromTimeSpan(TimeSpan.FromMinutes(1)) };
            cache.Put("e", NameCache.Resolve, "pg-1.postgres.us-east-1.aws.sky", Answer(1), time.GetUtcNow(), TimeSpan.FromMinutes(5));
            cache.Put("e", NameCache.Lookup, "_postgres._tcp.us-east-1.aws.sky", lookup, time.GetUtcNow(), TimeSpan.FromMinutes(5));
            cache.Put("e", NameCache.Lookup, "_kafka._tcp.us-east-1.aws.sky", lookup, time.GetUtcNow(), TimeSpan.FromMinutes(5));

            cache.Forget("e", "PG-1.postgres.us-east-1.aws.sky");

            Assert.Null(cache.TryGet("e", NameCache.Resolve, "pg-1.postgres.us-east-1.aws.sky", ResolveResponse.Parser));
            Assert.Null(cache.TryGet("e", NameCache.Lookup, "_postgres._tcp.us-east-1.aws.sky", LookupResponse.Parser));
            Assert.NotNull(cache.TryGet("e", NameCache.Lookup, "_kafka._tcp.us-east-1.aws.sky", LookupResponse.Parser));
        }
        finally
        {
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void The_cache_lives_under_sky_state_dir()
    {
        // Read, not set: the variable is process-wide and other tests run alongside.
        var state = Environment.GetEnvironmentVariable("SKY_STATE_DIR");
        var expected = string.IsNullOrEmpty(state)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sky", "cache", "names")
            : Path.Combine(state, "cache", "names");
        Assert.Equal(expected, NameCache.DefaultDirectory());
    }

    // Catalog parts

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(100_000)]
    public void Catalog_parts_end_at_line_breaks_and_concatenate_to_the_file(int partSize)
    {
        var random = new Random(partSize);
        var text = new StringBuilder("InstanceType,vCPUs,Price\n");
        for (var i = 0; i < 500; i++) text.Append($"type-{i},{random.Next(1, 96)},{new string('9', random.Next(0, 40))}\r\n");
        var parts = CsvParts.Split(new StringReader(text.ToString()), partSize).ToList();

        Assert.Equal(text.ToString(), string.Concat(parts));
        Assert.StartsWith("InstanceType,vCPUs,Price\n", parts[0]);
        Assert.All(parts, p => Assert.EndsWith("\n", p));
        // A part is at most partSize, unless it is a single line longer than that.
        Assert.All(parts, p => Assert.True(p.Length <= partSize || p.IndexOf('\n') == p.Length - 1, $"part of {p.Length} chars holds several lines"));
    }

    [Fact]
    public void A_file_without_a_final_line_break_gets_one_and_an_empty_file_has_no_parts()
    {
        Assert.Equal(["a,b\n", "1,2\n"], CsvParts.Split(new StringReader("a,b\n1,2"), 4).ToList());
        Assert.Empty(CsvParts.Split(new StringReader("")));
    }

    [SkippableFact]
    public void The_aws_catalog_streams_in_parts_of_about_256_KiB()
    {
        var path = SharedData.Find("catalogs/skypilot/aws/vms.csv");
        Skip.If(path is null, "../shared/catalogs/skypilot/aws/vms.csv is absent");
        var text = File.ReadAllText(path);
        using var reader = new StreamReader(path);
        var parts = CsvParts.Split(reader).ToList();

        Assert.Equal(text.EndsWith('\n') ? text : text + "\n", string.Concat(parts));
        Assert.True(parts.Count >= text.Length / CsvParts.DefaultPartSize, $"{parts.Count} parts");
        Assert.All(parts, p => Assert.InRange(p.Length, 1, CsvParts.DefaultPartSize));
        Assert.All(parts.SkipLast(1), p => Assert.True(p.Length > CsvParts.DefaultPartSize - 1000, $"a part of only {p.Length} chars"));
        Assert.StartsWith("InstanceType,", parts[0]);
    }

    // Grid batches

    private static EgressPrice Egress(string src) => new() { Src = new Location { Provider = src, Region = "r" }, Dst = new Location { Provider = "x" } };

    [Fact]
    public void Without_replace_grid_batches_are_plain_chunks()
    {
        var entries = Enumerable.Range(0, 25).Select(i => Egress(i % 2 == 0 ? "aws" : "gcp")).ToList();
        var batches = GridBatches.Split(entries, e => e.Src.Provider, replace: false, maxEntries: 10);
        Assert.Equal([10, 10, 5], batches.Select(b => b.Entries.Count));
        Assert.All(batches, b => Assert.False(b.Replace));
        Assert.Equal(entries, batches.SelectMany(b => b.Entries));
    }

    [Fact]
    public void With_replace_no_batch_mixes_providers_and_only_each_providers_first_batch_replaces()
    {
        var entries = Enumerable.Range(0, 25).Select(i => Egress(i % 3 == 0 ? "aws" : i % 3 == 1 ? "gcp" : "azure")).ToList();
        var batches = GridBatches.Split(entries, e => e.Src.Provider, replace: true, maxEntries: 4);

        Assert.All(batches, b => Assert.Single(b.Entries.Select(e => e.Src.Provider).Distinct()));
        Assert.All(batches, b => Assert.InRange(b.Entries.Count, 1, 4));
        foreach (var provider in new[] { "aws", "gcp", "azure" })
        {
            var own = batches.Where(b => b.Entries[0].Src.Provider == provider).ToList();
            Assert.True(own[0].Replace);
            Assert.All(own.Skip(1), b => Assert.False(b.Replace));
            Assert.Equal(entries.Count(e => e.Src.Provider == provider), own.Sum(b => b.Entries.Count));
        }
        Assert.Equal(10_000, GridBatches.MaxEntries);
    }

    // Formatting

    [Fact]
    public void Money_is_printed_exactly()
    {
        Assert.Equal("$3.06", Format.Money(Money.FromDecimal(3.06m, "USD")));
        Assert.Equal("$32.7726", Format.Money(Money.FromDecimal(32.7726m, "USD")));
        Assert.Equal("$3.00", Format.Money(new Money { CurrencyCode = "USD", Units = 3 }));
        Assert.Equal("$0.000000001", Format.Money(new Money { CurrencyCode = "USD", Nanos = 1 }));
        Assert.Equal("0.50 EUR", Format.Money(Money.FromDecimal(0.5m, "EUR")));
        Assert.Equal("", Format.Money(null));
        Assert.Equal("$0.09/GB to 10240 GB, $0.07/GB beyond", GridsCommand.Tiers([
            new EgressTier { UpToGb = 10240, PricePerGb = Money.FromDecimal(0.09m, "USD") },
            new EgressTier { UpToGb = 0, PricePerGb = Money.FromDecimal(0.07m, "USD") }]));
    }

    [Fact]
    public void Durations_and_locations_print_compactly()
    {
        Assert.Equal("30s", Format.Duration(Duration.FromTimeSpan(TimeSpan.FromSeconds(30))));
        Assert.Equal("1h30m", Format.Duration(Duration.FromTimeSpan(TimeSpan.FromMinutes(90))));
        Assert.Equal("24h", Format.Duration(Duration.FromTimeSpan(TimeSpan.FromDays(1))));
        Assert.Equal("aws/us-east-1", Format.Location(new Location { Provider = "aws", Region = "us-east-1" }));
        Assert.Equal("aws/us-east-1/use1-az1", Format.Location(new Location { Provider = "aws", Region = "us-east-1", Zone = "use1-az1" }));
    }

    [Fact]
    public void A_watch_line_starts_with_revision_type_id_and_place()
    {
        var change = new OfferChange
        {
            Revision = 42,
            Type = OfferChangeType.Registered,
            Matches = true,
            Offer = new Offer
            {
                OfferId = "off-1", Kind = OfferKind.Compute, InstanceType = "p4d.24xlarge",
                Location = new Location { Provider = "aws", Region = "us-east-1", Zone = "use1-az1" },
                Price = new Price { OnDemandHourly = Money.FromDecimal(32.7726m, "USD"), SpotHourly = Money.FromDecimal(9.8m, "USD") },
            },
        };
        Assert.Equal("42 REGISTERED off-1 aws/us-east-1/use1-az1 compute p4d.24xlarge $32.7726/h spot $9.80/h", DirCommand.ChangeLine(change));

        change.Type = OfferChangeType.Updated;
        change.Matches = false;
        change.Offer.Load = 0.4;
        Assert.EndsWith("load 0.40 (no longer matches)", DirCommand.ChangeLine(change));
    }

    [Fact]
    public void Gpu_rows_are_cheapest_first_within_model_and_count_and_collapse_regions_by_default()
    {
        static AcceleratorOffer Row(string name, int count, string provider, string region, string type, decimal? price) => new()
        {
            Accelerator = new Accelerator { Name = name, Count = count },
            Location = new Location { Provider = provider, Region = region },
            InstanceType = type,
            Price = new Price { OnDemandHourly = price is { } p ? Money.FromDecimal(p, "USD") : null },
        };
        var rows = new[]
        {
            Row("A100", 8, "gcp", "us-central1", "a2-highgpu-8g", 29.39m),
            Row("A100", 8, "aws", "us-west-2", "p4d.24xlarge", 32.77m),
            Row("A100", 8, "aws", "us-east-1", "p4d.24xlarge", 32.77m),
            Row("A100", 1, "lambda", "us-east-1", "gpu_1x_a100", null),
            Row("A100", 1, "gcp", "us-central1", "a2-highgpu-1g", 3.67m),
            Row("H100", 1, "aws", "us-east-1", "p5.4xlarge", 6.88m),
        };

        var every = GpusCommand.Ordered(rows, everyRegion: true);
        Assert.Equal(["a2-highgpu-1g", "gpu_1x_a100", "a2-highgpu-8g", "p4d.24xlarge", "p4d.24xlarge", "p5.4xlarge"], every.Select(r => r.InstanceType));
        Assert.Equal("us-east-1", every[3].Location.Region);

        var collapsed = GpusCommand.Ordered(rows, everyRegion: false);
        Assert.Equal(["a2-highgpu-1g", "gpu_1x_a100", "a2-highgpu-8g", "p4d.24xlarge", "p5.4xlarge"], collapsed.Select(r => r.InstanceType));
    }
}
