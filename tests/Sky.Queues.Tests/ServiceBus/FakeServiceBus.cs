using System.Diagnostics;
using Azure.Messaging.ServiceBus;

namespace Sky.Queues.Tests.ServiceBus;

/// <summary>
/// An in-memory Service Bus namespace behind the SDK's own mocking seams: <see cref="ServiceBusClient"/>,
/// <see cref="ServiceBusSender"/> and <see cref="ServiceBusReceiver"/> subclassed (their members are virtual for this),
/// and received messages built with <see cref="ServiceBusModelFactory"/>.
/// <para>What it does as Service Bus does: PeekLock receive locks each message for <see cref="LockDuration"/> with a
/// new lock token and raises its delivery count (1 on the first delivery); a lock that lapses makes the message
/// available again; Complete removes it, Abandon unlocks it at once, DeadLetter moves it to the entity's dead-letter
/// sub-queue with the reason, description and properties to modify, RenewMessageLock extends the lock by the lock
/// duration and updates the message's LockedUntil; settling or renewing with a lapsed or superseded lock throws
/// <see cref="ServiceBusException"/> with <see cref="ServiceBusFailureReason.MessageLockLost"/>; a receive waits up
/// to its maxWaitTime for the first message. A topic's sender copies to each of its subscriptions.</para>
/// <para>Every call is recorded in <see cref="Calls"/> so tests can check what the adapter asked for.</para>
/// </summary>
public sealed class FakeServiceBus(TimeProvider time, TimeSpan lockDuration)
{
    private readonly TimeProvider _time = time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entity> _entities = new(StringComparer.Ordinal);
    private readonly List<string> _calls = [];
    private long _sequence;

    public TimeSpan LockDuration { get; } = lockDuration;

    /// <summary>Failures to throw from the next settlement calls, in order (to test transient errors).</summary>
    public Queue<ServiceBusException> NextSettleFailures { get; } = new();

    public IReadOnlyList<string> Calls
    {
        get { lock (_gate) return [.. _calls]; }
    }

    public ServiceBusClient CreateClient() => new FakeClient(this);

    /// <summary>A message put straight into an entity (another producer's), with any property types and a prior delivery count.</summary>
    public void Put(string entity, byte[] body, IDictionary<string, object>? properties = null, int deliveredBefore = 0)
    {
        lock (_gate)
            GetEntity(entity).Messages.Add(new Stored(Guid.NewGuid().ToString("N"), body, new(properties ?? new Dictionary<string, object>()), ++_sequence)
            {
                DeliveryCount = deliveredBefore,
            });
    }

    /// <summary>The entity's dead-letter sub-queue: body, application properties (with the properties to modify) and the reason.</summary>
    public IReadOnlyList<(string MessageId, byte[] Body, IReadOnlyDictionary<string, object> Properties, string? Reason)> DeadLetters(string entity)
    {
        lock (_gate) return [.. GetEntity(entity).DeadLetters];
    }

    /// <summary>The messages an entity holds (locked or not).</summary>
    public int Count(string entity)
    {
        lock (_gate) return GetEntity(entity).Messages.Count;
    }

    private void Record(string call)
    {
        lock (_gate) _calls.Add(call);
    }

    private Entity GetEntity(string name)
    {
        if (!_entities.TryGetValue(name, out var entity)) _entities[name] = entity = new Entity();
        return entity;
    }

    private void Send(string entityPath, ServiceBusMessage message)
    {
        lock (_gate)
        {
            _calls.Add($"send {entityPath} {message.MessageId}");
            var subscriptions = _entities.Keys.Where(k => k.StartsWith(entityPath + "/subscriptions/", StringComparison.Ordinal)).ToList();
            foreach (var target in subscriptions.Count > 0 ? subscriptions : [entityPath])
                GetEntity(target).Messages.Add(new Stored(message.MessageId, message.Body.ToArray(), new(message.ApplicationProperties), ++_sequence));
        }
    }

    private async Task<IReadOnlyList<ServiceBusReceivedMessage>> ReceiveAsync(string entityPath, int max, TimeSpan wait, CancellationToken ct)
    {
        Record($"receive {entityPath} max={max} wait={wait.TotalMilliseconds}ms");
        var waited = Stopwatch.StartNew();
        while (true)
        {
            lock (_gate)
            {
                var now = _time.GetUtcNow();
                var available = GetEntity(entityPath).Messages.Where(m => m.LockToken is null || m.LockedUntil <= now).Take(max).ToList();
                if (available.Count > 0 || waited.Elapsed >= wait)
                    return [.. available.Select(m => Lock(m, now))];
            }
            await Task.Delay(10, ct);
        }
    }

    private ServiceBusReceivedMessage Lock(Stored stored, DateTimeOffset now)
    {
        stored.DeliveryCount++;
        stored.LockToken = Guid.NewGuid();
        stored.LockedUntil = now + LockDuration;
        stored.Received = ServiceBusModelFactory.ServiceBusReceivedMessage(
            body: BinaryData.FromBytes(stored.Body),
            messageId: stored.MessageId,
            properties: new Dictionary<string, object>(stored.Properties),
            lockTokenGuid: stored.LockToken.Value,
            deliveryCount: stored.DeliveryCount,
            lockedUntil: stored.LockedUntil,
            sequenceNumber: stored.Sequence,
            enqueuedTime: now);
        return stored.Received;
    }

    /// <summary>Runs a settlement on the message's current lock, or throws MessageLockLost as Service Bus does.</summary>
    private void Settle(string entityPath, ServiceBusReceivedMessage message, string call, Action<Entity, Stored> settle)
    {
        lock (_gate)
        {
            _calls.Add(call);
            if (NextSettleFailures.TryDequeue(out var failure)) throw failure;
            var entity = GetEntity(entityPath);
            var stored = entity.Messages.FirstOrDefault(m => m.LockToken?.ToString() == message.LockToken);
            if (stored is null || stored.LockedUntil <= _time.GetUtcNow())
                throw new ServiceBusException("The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.",
                    ServiceBusFailureReason.MessageLockLost, entityPath);
            settle(entity, stored);
        }
    }

    private static string Describe(IDictionary<string, object>? properties) =>
        properties is null ? "" : string.Join(",", properties.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    private sealed class Entity
    {
        public List<Stored> Messages { get; } = [];
        public List<(string, byte[], IReadOnlyDictionary<string, object>, string?)> DeadLetters { get; } = [];
    }

    private sealed class Stored(string messageId, byte[] body, Dictionary<string, object> properties, long sequence)
    {
        public string MessageId { get; } = messageId;
        public byte[] Body { get; } = body;
        public Dictionary<string, object> Properties { get; } = properties;
        public long Sequence { get; } = sequence;
        public int DeliveryCount { get; set; }
        public Guid? LockToken { get; set; }
        public DateTimeOffset LockedUntil { get; set; }
        public ServiceBusReceivedMessage? Received { get; set; }
    }

    private sealed class FakeClient(FakeServiceBus bus) : ServiceBusClient
    {
        public override string FullyQualifiedNamespace => "fake.servicebus.windows.net";

        public override ServiceBusSender CreateSender(string queueOrTopicName)
        {
            bus.Record($"sender {queueOrTopicName}");
            return new FakeSender(bus, queueOrTopicName);
        }

        public override ServiceBusReceiver CreateReceiver(string queueName, ServiceBusReceiverOptions options) => Receiver(queueName, options);

        public override ServiceBusReceiver CreateReceiver(string topicName, string subscriptionName, ServiceBusReceiverOptions options) =>
            Receiver($"{topicName}/subscriptions/{subscriptionName}", options);

        private FakeReceiver Receiver(string entityPath, ServiceBusReceiverOptions options)
        {
            bus.Record($"receiver {entityPath} {options.ReceiveMode} prefetch={options.PrefetchCount}");
            lock (bus._gate) bus.GetEntity(entityPath);
            return new FakeReceiver(bus, entityPath);
        }

        public override ValueTask DisposeAsync()
        {
            bus.Record("client disposed");
            return ValueTask.CompletedTask;
        }
    }

    private sealed class FakeSender(FakeServiceBus bus, string entityPath) : ServiceBusSender
    {
        public override Task SendMessageAsync(ServiceBusMessage message, CancellationToken cancellationToken = default)
        {
            bus.Send(entityPath, message);
            return Task.CompletedTask;
        }

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

        public override Task CloseAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    }

    private sealed class FakeReceiver(FakeServiceBus bus, string entityPath) : ServiceBusReceiver
    {
        public override Task<IReadOnlyList<ServiceBusReceivedMessage>> ReceiveMessagesAsync(int maxMessages, TimeSpan? maxWaitTime = null, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 1);
            if (maxWaitTime is { } wait && wait <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(maxWaitTime), "must be positive"); // as the SDK checks
            return bus.ReceiveAsync(entityPath, maxMessages, maxWaitTime ?? TimeSpan.FromSeconds(60), cancellationToken);
        }

        public override Task CompleteMessageAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default)
        {
            bus.Settle(entityPath, message, $"complete {message.LockToken}", (entity, stored) => entity.Messages.Remove(stored));
            return Task.CompletedTask;
        }

        public override Task AbandonMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object>? propertiesToModify = null, CancellationToken cancellationToken = default)
        {
            bus.Settle(entityPath, message, $"abandon {message.LockToken}", (_, stored) =>
            {
                foreach (var (key, value) in propertiesToModify ?? new Dictionary<string, object>()) stored.Properties[key] = value;
                stored.LockToken = null;
            });
            return Task.CompletedTask;
        }

        public override Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, IDictionary<string, object> propertiesToModify,
            string deadLetterReason, string? deadLetterErrorDescription = null, CancellationToken cancellationToken = default)
        {
            bus.Settle(entityPath, message, $"deadletter {message.LockToken} reason={deadLetterReason} description={deadLetterErrorDescription} properties={Describe(propertiesToModify)}",
                (entity, stored) =>
                {
                    entity.Messages.Remove(stored);
                    var properties = new Dictionary<string, object>(stored.Properties);
                    foreach (var (key, value) in propertiesToModify ?? new Dictionary<string, object>()) properties[key] = value;
                    entity.DeadLetters.Add((stored.MessageId, stored.Body, properties, deadLetterReason));
                });
            return Task.CompletedTask;
        }

        public override Task DeadLetterMessageAsync(ServiceBusReceivedMessage message, string deadLetterReason, string? deadLetterErrorDescription = null,
            CancellationToken cancellationToken = default) =>
            DeadLetterMessageAsync(message, new Dictionary<string, object>(), deadLetterReason, deadLetterErrorDescription, cancellationToken);

        public override Task RenewMessageLockAsync(ServiceBusReceivedMessage message, CancellationToken cancellationToken = default)
        {
            bus.Settle(entityPath, message, $"renew {message.LockToken}", (_, stored) =>
            {
                stored.LockedUntil = bus._time.GetUtcNow() + bus.LockDuration;
                // The SDK sets the received message's LockedUntil on renewal; it keeps it in the AMQP annotations.
                message.GetRawAmqpMessage().MessageAnnotations["x-opt-locked-until"] = stored.LockedUntil.UtcDateTime;
            });
            return Task.CompletedTask;
        }

        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

        public override Task CloseAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    }
}
