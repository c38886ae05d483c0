using System.Globalization;
using Amazon.SQS;
using Amazon.SQS.Model;

namespace Sky.Queues.Sqs;

/// <summary>Where an <see cref="SqsQueue"/> reads, and where it dead-letters.</summary>
public sealed record SqsQueueOptions
{
    /// <summary>The queue: its URL, or its name (resolved once with GetQueueUrl).</summary>
    public required string Queue { get; init; }

    /// <summary>The dead-letter queue, URL or name. Required: Receive dead-letters poison messages there.</summary>
    public required string DeadLetterQueue { get; init; }

    /// <summary>The queue's URI for <see cref="IMessageQueue.Address"/>; by default <c>sqs://NAME?dlq=NAME</c>.</summary>
    public string? Address { get; init; }

    /// <summary>Whether disposing the queue disposes the client (so when <see cref="QueueUri"/> made it).</summary>
    public bool DisposeClient { get; init; }
}

/// <summary>
/// Amazon SQS behind <see cref="IMessageQueue"/>. Receive long-polls (at most 20 s a call, SQS's limit, calling again
/// until <c>wait</c> is spent) and takes up to 10 messages a call, calling again without waiting while batches come
/// back full. The delivery count is SQS's ApproximateReceiveCount. Dead-lettering sends a copy (body, attributes and
/// the reason) to the dead-letter queue and then deletes the original: if the delete fails the message is in both,
/// which at-least-once delivery allows. Bodies and attributes travel as <see cref="SqsMessageCodec"/> says.
/// Standard queues only: FIFO queues need a message group on every send.
/// </summary>
public sealed class SqsQueue : IMessageQueue
{
    /// <summary>SQS's longest long poll.</summary>
    public const int MaxWaitSeconds = 20;
    /// <summary>SQS's largest receive batch.</summary>
    public const int MaxBatch = 10;
    /// <summary>SQS's longest visibility timeout (12 hours).</summary>
    public const int MaxVisibilitySeconds = 43_200;

    private const string ReceiveCount = "ApproximateReceiveCount";
    /// <summary>Between short polls when less than a second of the wait is left (SQS waits only in whole seconds).</summary>
    private static readonly TimeSpan ShortPollPause = TimeSpan.FromMilliseconds(100);

    private readonly IAmazonSQS _sqs;
    private readonly QueueUrl _queue;
    private readonly QueueUrl _deadLetter;
    private readonly QueueOptions _options;
    private readonly bool _disposeClient;

    public SqsQueue(IAmazonSQS sqs, SqsQueueOptions sqsOptions, QueueOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sqs);
        ArgumentNullException.ThrowIfNull(sqsOptions);
        ArgumentException.ThrowIfNullOrWhiteSpace(sqsOptions.Queue);
        ArgumentException.ThrowIfNullOrWhiteSpace(sqsOptions.DeadLetterQueue);
        _sqs = sqs;
        _queue = new QueueUrl(sqs, sqsOptions.Queue);
        _deadLetter = new QueueUrl(sqs, sqsOptions.DeadLetterQueue);
        _options = QueueRules.Check(options);
        _disposeClient = sqsOptions.DisposeClient;
        Address = sqsOptions.Address ?? $"sqs://{_queue.Name}?dlq={Uri.EscapeDataString(_deadLetter.Name)}";
    }

    public string Address { get; }

    public async Task<string> SendAsync(OutgoingMessage message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return await SendAsync(_queue, message.Body, message.Attributes, ct);
    }

    public async Task<IReadOnlyList<IncomingMessage>> ReceiveAsync(int max, TimeSpan visibilityTimeout, TimeSpan wait, CancellationToken ct = default)
    {
        QueueRules.CheckReceive(max, visibilityTimeout, wait);
        var hideSeconds = QueueRules.WholeSeconds(visibilityTimeout, MaxVisibilitySeconds, "SQS");
        var url = await _queue.GetAsync(ct);
        var time = _options.Time;
        var deadline = QueueRules.Deadline(time, wait);
        var received = new List<IncomingMessage>();
        while (true)
        {
            // Only the first message is waited for; once some came, further calls just drain what is there.
            var remaining = received.Count == 0 ? deadline - time.GetUtcNow() : TimeSpan.Zero;
            var waitSeconds = (int)Math.Clamp(Math.Floor(remaining.TotalSeconds), 0, MaxWaitSeconds);
            var ask = Math.Min(MaxBatch, max - received.Count);
            var response = await _sqs.ReceiveMessageAsync(new ReceiveMessageRequest
            {
                QueueUrl = url,
                MaxNumberOfMessages = ask,
                VisibilityTimeout = hideSeconds,
                WaitTimeSeconds = waitSeconds,
                MessageAttributeNames = ["All"],
                MessageSystemAttributeNames = [ReceiveCount],
            }, ct);
            var batch = response.Messages ?? [];
            foreach (var message in batch)
            {
                var incoming = ToIncoming(message);
                if (QueueRules.IsPoison(incoming.DeliveryCount, _options))
                    await DeadLetterAsync(incoming, QueueRules.PoisonReason(incoming.DeliveryCount, _options), ct);
                else received.Add(incoming);
            }
            if (received.Count >= max) break;
            if (batch.Count == ask) continue; // a full batch: more may be waiting
            var now = time.GetUtcNow();
            if (received.Count > 0 || now >= deadline) break;
            if (waitSeconds == 0) await Task.Delay(Min(ShortPollPause, deadline - now), time, ct);
        }
        return received;
    }

    public async Task AckAsync(IncomingMessage message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        await _sqs.DeleteMessageAsync(new DeleteMessageRequest { QueueUrl = await _queue.GetAsync(ct), ReceiptHandle = message.Receipt }, ct);
    }

    public async Task ReleaseAsync(IncomingMessage message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            await _sqs.ChangeMessageVisibilityAsync(new ChangeMessageVisibilityRequest
            {
                QueueUrl = await _queue.GetAsync(ct),
                ReceiptHandle = message.Receipt,
                VisibilityTimeout = 0,
            }, ct);
        }
        catch (MessageNotInflightException)
        {
            // Its visibility timeout lapsed already: it is visible, which is what Release asks for.
        }
    }

    public async Task DeadLetterAsync(IncomingMessage message, string reason, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        QueueRules.CheckReason(reason);
        var attributes = QueueRules.WithReason(message.Attributes, reason);
        foreach (var reserved in attributes.Keys.Where(SqsMessageCodec.IsReserved).ToList()) attributes.Remove(reserved);
        await SendAsync(_deadLetter, message.Body, attributes, ct);
        await AckAsync(message, ct);
    }

    public ValueTask DisposeAsync()
    {
        if (_disposeClient) _sqs.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<string> SendAsync(QueueUrl queue, ReadOnlyMemory<byte> body, IReadOnlyDictionary<string, string> attributes, CancellationToken ct)
    {
        var (text, encoded) = SqsMessageCodec.Encode(body.Span, attributes);
        var response = await _sqs.SendMessageAsync(new SendMessageRequest
        {
            QueueUrl = await queue.GetAsync(ct),
            MessageBody = text,
            MessageAttributes = encoded,
        }, ct);
        return response.MessageId;
    }

    private static IncomingMessage ToIncoming(Message message)
    {
        var (body, attributes) = SqsMessageCodec.Decode(message.Body, message.MessageAttributes);
        var count = message.Attributes is { } system && system.TryGetValue(ReceiveCount, out var text)
                    && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : 1;
        return new IncomingMessage(message.MessageId, body, attributes, count, message.ReceiptHandle);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>A queue named by URL, or by name and resolved on first use (a failed lookup is tried again next time).</summary>
    private sealed class QueueUrl(IAmazonSQS sqs, string queue)
    {
        private string? _url = IsUrl(queue) ? queue : null;

        public string Name { get; } = IsUrl(queue) ? queue.TrimEnd('/')[(queue.TrimEnd('/').LastIndexOf('/') + 1)..] : queue;

        public async ValueTask<string> GetAsync(CancellationToken ct) =>
            _url ??= (await sqs.GetQueueUrlAsync(new GetQueueUrlRequest { QueueName = queue }, ct)).QueueUrl;

        private static bool IsUrl(string text) =>
            text.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("http://", StringComparison.OrdinalIgnoreCase);
    }
}
