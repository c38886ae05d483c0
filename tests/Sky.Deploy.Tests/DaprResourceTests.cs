using System.Globalization;
using System.Text.RegularExpressions;
using Sky.Hosting.Events;
using Sky.Hosting.Options;
using YamlDotNet.RepresentationModel;

namespace Sky.Deploy.Tests;

/// <summary>The Dapr resources in dapr/ against the names in <see cref="DaprNames"/> and the topics in <see cref="Topics"/>.</summary>
public class DaprResourceTests
{
    private const string PubSubFolder = "dapr/components/pubsub";

    /// <summary>Each pub/sub choice (a folder an overlay lists) and the Dapr component type it must be.</summary>
    private static readonly Dictionary<string, string> PubSubChoices = new(StringComparer.Ordinal)
    {
        ["redis"] = "pubsub.redis",
        ["aws-snssqs"] = "pubsub.aws.snssqs",
        ["azure-servicebus"] = "pubsub.azure.servicebus.topics",
        ["gcp-pubsub"] = "pubsub.gcp.pubsub",
    };

    /// <summary>Component metadata whose value names topics (comma lists, or app=topics;... scopes).</summary>
    private static readonly HashSet<string> TopicFields =
        ["allowedTopics", "protectedTopics", "publishingScopes", "subscriptionScopes", "deadLetterTopic", "topic"];

    public static IEnumerable<object[]> Choices => PubSubChoices.Keys.Select(k => new object[] { k });

    private static readonly HashSet<string> AppIds = MeshService.All.Select(s => s.AppId).ToHashSet();

    private static Rendered Shared => Kustomize.Build("dapr");

    [Fact]
    public void EveryPubSubFolderIsAKnownChoice()
    {
        var folders = System.IO.Directory.EnumerateDirectories(Repo.PathOf(PubSubFolder)).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(PubSubChoices.Keys.Order(StringComparer.Ordinal), folders);
        Assert.Equal(OverlayTests.PubSubTypes.Order(StringComparer.Ordinal), PubSubChoices.Values.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Choices))]
    public void EachPubSubChoiceIsOneComponentNamedForTheCode(string choice)
    {
        var component = Assert.Single(Kustomize.Build($"{PubSubFolder}/{choice}").Resources);
        Assert.Equal("Component", component.Kind);
        Assert.Equal(DaprNames.PubSub, component.Name);
        Assert.Equal(PubSubChoices[choice], component.Spec.Str("type"));
        Assert.Equal("v1", component.Spec.Str("version"));
    }

    [Theory]
    [MemberData(nameof(Choices))]
    public void TopicScopingFollowsTheTopicsTheCodeUses(string choice)
    {
        var component = Assert.Single(Kustomize.Build($"{PubSubFolder}/{choice}").Resources);
        var metadata = Metadata(component);

        Assert.Equal(Topics.All.Order(StringComparer.Ordinal), TopicList(metadata["allowedTopics"]).Order(StringComparer.Ordinal));

        var subscribes = AppScopes(metadata["subscriptionScopes"]);
        var publishes = AppScopes(metadata["publishingScopes"]);
        foreach (var service in MeshService.All)
        {
            Assert.True(subscribes.ContainsKey(service.AppId), $"{choice}: subscriptionScopes leaves {service.AppId} free to subscribe to anything");
            Assert.Equal(Topics.ConsumedBy(service).Order(StringComparer.Ordinal), subscribes[service.AppId].Order(StringComparer.Ordinal));
            Assert.True(publishes.TryGetValue(service.AppId, out var own) && own.Contains(service.Name),
                $"{choice}: {service.AppId} may not publish to its own topic '{service.Name}'");
        }
        foreach (var topic in MeshService.All.SelectMany(Topics.ConsumedBy).Distinct())
            Assert.True(publishes.Values.Any(p => p.Contains(topic)), $"{choice}: topic '{topic}' is consumed but nobody may publish to it");
    }

    [Fact]
    public void EveryTopicNamedInTheManifestsIsAMeshTopic()
    {
        var named = new List<(string File, string Topic)>();
        foreach (var file in Yaml.ManifestFiles())
        {
            foreach (var doc in Yaml.LoadDocuments(Repo.PathOf(file)))
            {
                var kind = doc.StrOrNull("kind");
                if (kind == "Component")
                {
                    foreach (var item in doc.At("spec")?.Maps("metadata") ?? [])
                        if (TopicFields.Contains(item.Str("name")) && item.StrOrNull("value") is { } value)
                            named.AddRange(TopicsIn(item.Str("name"), value).Select(t => (file, t)));
                }
                else if (kind == "Subscription" && doc.At("spec") is { } spec)
                {
                    foreach (var field in new[] { "topic", "deadLetterTopic" })
                        if (spec.StrOrNull(field) is { } topic) named.Add((file, topic));
                }
            }
        }
        Assert.NotEmpty(named);
        var unknown = named.Where(n => !Topics.All.Contains(n.Topic)).ToList();
        Assert.True(unknown.Count == 0, "topics not in Topics.All: " + string.Join(", ", unknown.Select(u => $"{u.Topic} ({u.File})")));
    }

    [Fact]
    public void ScopesNameRealAppIds()
    {
        var scoped = Yaml.ManifestFiles()
            .SelectMany(f => Yaml.LoadDocuments(Repo.PathOf(f)).Select(d => (File: f, Doc: d)))
            .Where(x => x.Doc.StrOrNull("kind") is "Component" or "Resiliency")
            .ToList();
        Assert.NotEmpty(scoped);
        foreach (var (file, doc) in scoped)
        {
            var scopes = doc.Strings("scopes");
            Assert.True(scopes.Count > 0, $"{file}: {doc.Str("kind")} {doc.Map("metadata").Str("name")} lists no scopes, so every app in the namespace gets it");
            foreach (var scope in scopes) Assert.True(AppIds.Contains(scope), $"{file}: scope '{scope}' is not an app id ({string.Join(", ", AppIds)})");
            foreach (var item in doc.At("spec")?.Maps("metadata") ?? [])
                if (item.Str("name") is "publishingScopes" or "subscriptionScopes")
                    foreach (var app in AppScopes(item.Str("value")).Keys)
                        Assert.True(AppIds.Contains(app), $"{file}: {item.Str("name")} names '{app}', which is not an app id");
        }
    }

    [Fact]
    public void StateStoreIsRedisNamedForTheCode()
    {
        var state = Shared.Get("Component", DaprNames.StateStore);
        Assert.Equal("state.redis", state.Spec.Str("type"));
        Assert.Equal("v1", state.Spec.Str("version"));
    }

    [Fact]
    public void RedisComponentsPointAtTheMeshRedis()
    {
        var baseResources = Kustomize.Build(Overlays.Base);
        var components = Shared.OfKind("Component")
            .Concat(PubSubChoices.Keys.SelectMany(c => Kustomize.Build($"{PubSubFolder}/{c}").Resources))
            .Where(c => c.Spec.Str("type").EndsWith(".redis", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(2, components.Count);
        foreach (var component in components)
        {
            var host = Metadata(component)["redisHost"];
            var colon = host.LastIndexOf(':');
            Assert.True(colon > 0, $"{component}: redisHost '{host}' is not host:port");
            Workloads.AssertServiceReaches(baseResources, host[..colon], int.Parse(host[(colon + 1)..], CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public void ConfigurationTracesAndMeasures()
    {
        var config = Shared.Get("Configuration", DaprNames.Configuration);
        AssertSamplingRate(config);
        Assert.Equal("true", config.Spec.Map("metrics").Str("enabled"));
        foreach (var overlay in Overlays.Names()) AssertSamplingRate(Overlays.Render(overlay).Get("Configuration", DaprNames.Configuration));
    }

    private static void AssertSamplingRate(Resource config)
    {
        var text = config.Spec.Map("tracing").Str("samplingRate");
        Assert.True(decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var rate) && rate is > 0 and <= 1,
            $"{config}: samplingRate '{text}' is not a rate in (0, 1]");
    }

    [Fact]
    public void ResiliencyRetriesTimesOutAndBreaksForEveryAppAndThePubSub()
    {
        var resiliency = Shared.Get("Resiliency", DaprNames.Resiliency);
        var policies = resiliency.Spec.Map("policies");
        var timeouts = policies.Map("timeouts");
        var retries = policies.Map("retries");
        var breakers = policies.Map("circuitBreakers");

        foreach (var (name, value) in timeouts.Children)
            Assert.True(GoDuration.Parse(((YamlScalarNode)value).Value!) > TimeSpan.Zero, $"timeout {name}");
        Assert.Contains(retries.Children.Values.Cast<YamlMappingNode>(), r => r.Str("policy") == "exponential");
        foreach (var (name, node) in retries.Children)
        {
            var retry = (YamlMappingNode)node;
            Assert.True(retry.Int("maxRetries") is -1 or > 0, $"retry {name}: maxRetries");
            var interval = retry.Str("policy") switch
            {
                "exponential" => retry.Str("maxInterval"),
                "constant" => retry.Str("duration"),
                var other => throw new Xunit.Sdk.XunitException($"retry {name}: policy '{other}' is neither constant nor exponential"),
            };
            Assert.True(GoDuration.Parse(interval) > TimeSpan.Zero);
        }
        Assert.NotEmpty(breakers.Children);
        foreach (var (name, node) in breakers.Children)
        {
            var breaker = (YamlMappingNode)node;
            Assert.Matches(@"^consecutiveFailures\s*>=?\s*[0-9]+$", breaker.Str("trip"));
            Assert.True(GoDuration.Parse(breaker.Str("timeout")) > TimeSpan.Zero, $"breaker {name}: timeout");
            GoDuration.Parse(breaker.Str("interval"));
            Assert.True(breaker.Int("maxRequests") >= 1, $"breaker {name}: maxRequests");
        }

        void AssertTarget(string what, YamlMappingNode target)
        {
            Assert.True(timeouts.Has(target.Str("timeout")), $"{what}: unknown timeout {target.Str("timeout")}");
            Assert.True(retries.Has(target.Str("retry")), $"{what}: unknown retry {target.Str("retry")}");
            Assert.True(breakers.Has(target.Str("circuitBreaker")), $"{what}: unknown circuit breaker {target.Str("circuitBreaker")}");
        }

        var apps = resiliency.Spec.Map("targets").Map("apps");
        Assert.Equal(AppIds.Order(StringComparer.Ordinal), apps.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).Order(StringComparer.Ordinal));
        foreach (var (app, target) in apps.Children) AssertTarget($"app {app}", (YamlMappingNode)target);

        var components = resiliency.Spec.Map("targets").Map("components");
        var pubsub = components.Map(DaprNames.PubSub);
        Assert.True(pubsub.Has("outbound") && pubsub.Has("inbound"), "the pub/sub needs policies for publishing and for delivery");
        foreach (var (componentNode, directions) in components.Children)
        {
            var component = ((YamlScalarNode)componentNode).Value!;
            Assert.True(component is DaprNames.PubSub or DaprNames.StateStore, $"resiliency targets component '{component}', which dapr/ does not define");
            foreach (var (direction, target) in ((YamlMappingNode)directions).Children)
                AssertTarget($"{component} {direction}", (YamlMappingNode)target);
        }
        Assert.Equal(AppIds.Order(StringComparer.Ordinal), resiliency.Node.Strings("scopes").Order(StringComparer.Ordinal));
    }

    private static Dictionary<string, string> Metadata(Resource component) =>
        component.Spec.Maps("metadata").Where(m => m.Has("value")).ToDictionary(m => m.Str("name"), m => m.Str("value"));

    private static IReadOnlyList<string> TopicList(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Dapr's "app1=topic1,topic2;app2=" form: each app and the topics it may use (none when empty).</summary>
    private static Dictionary<string, IReadOnlyList<string>> AppScopes(string value)
    {
        var scopes = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var entry in value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var match = Regex.Match(entry, "^([^=]+)=(.*)$");
            Assert.True(match.Success, $"'{entry}' is not app=topic,topic");
            Assert.True(scopes.TryAdd(match.Groups[1].Value, TopicList(match.Groups[2].Value)), $"app {match.Groups[1].Value} scoped twice");
        }
        return scopes;
    }

    private static IEnumerable<string> TopicsIn(string field, string value) =>
        field is "publishingScopes" or "subscriptionScopes" ? AppScopes(value).Values.SelectMany(t => t) : TopicList(value);
}
