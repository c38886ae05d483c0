using System.Threading.Channels;
using Grpc.Core;
using Sky.Directory.Query;
using Sky.Directory.V1;

namespace Sky.Directory.Engine;

public sealed partial class DirectoryEngine
{
    /// <summary>
    /// Starts a watch: the first response (no changes, the current revision, or `compacted`) is queued at
    /// once; with a start revision, retained changes from it are replayed before live ones, under the same
    /// lock that applies changes, so nothing falls between replay and live delivery.
    /// </summary>
    public WatchSubscription Watch(Selector selector, long startRevision)
    {
        EnsureReady();
        if (startRevision < 0) throw Sky.Hosting.Errors.RpcErrors.InvalidArgument("start_revision", "must be >= 0");
        var watcher = new Watcher(this, selector, options.WatchBacklog) { MinRevision = startRevision };
        _lock.EnterWriteLock();
        try
        {
            if (startRevision > 0 && startRevision < _history.CompactRevision)
            {
                watcher.Enqueue(new WatchResponse { Revision = _revision, Compacted = true, CompactRevision = _history.CompactRevision });
                watcher.Complete();
                return new WatchSubscription(watcher);
            }
            watcher.Enqueue(new WatchResponse { Revision = _revision });
            if (startRevision > 0) watcher.Offer(_history.Since(startRevision), _revision);
            _watchers.Add(watcher);
        }
        finally { _lock.ExitWriteLock(); }
        return new WatchSubscription(watcher);
    }

    private void Unwatch(Watcher watcher)
    {
        _lock.EnterWriteLock();
        try { _watchers.Remove(watcher); }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>A live watch: read <see cref="Responses"/>; dispose to stop.</summary>
    public sealed class WatchSubscription : IDisposable
    {
        private readonly Watcher _watcher;
        internal WatchSubscription(Watcher watcher) => _watcher = watcher;

        /// <summary>Waits until a response is queued; false when the watch has ended (throws if it ended in error).</summary>
        public ValueTask<bool> WaitAsync(CancellationToken ct) => _watcher.Reader.WaitToReadAsync(ct);

        public bool TryRead(out WatchResponse response)
        {
            if (!_watcher.Reader.TryRead(out response!)) return false;
            _watcher.Dequeued();
            return true;
        }

        public void Dispose() => _watcher.Stop();
    }

    /// <summary>One watch's selector and queue. Offered changes are filtered here, on the applying thread.</summary>
    internal sealed class Watcher(DirectoryEngine engine, Selector selector, int backlog)
    {
        private readonly Channel<WatchResponse> _queue = Channel.CreateUnbounded<WatchResponse>(new() { SingleReader = true });
        private int _queued;
        private bool _done;

        public ChannelReader<WatchResponse> Reader => _queue.Reader;

        /// <summary>Changes below this revision are not delivered (a watch from a future revision).</summary>
        public long MinRevision { get; init; }

        public void Enqueue(WatchResponse response)
        {
            if (_done) return;
            if (Interlocked.Increment(ref _queued) > backlog)
            {
                _done = true;
                _queue.Writer.TryComplete(new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"the watcher fell more than {backlog} responses behind; resume from the last revision received")));
                engine.Unwatch(this);
                return;
            }
            _queue.Writer.TryWrite(response);
        }

        public void Dequeued() => Interlocked.Decrement(ref _queued);

        /// <summary>Queues the changes this watch selects: those matching before or after the change.</summary>
        public void Offer(IReadOnlyList<History.Item> items, long revision)
        {
            if (_done) return;
            WatchResponse? response = null;
            foreach (var item in items)
            {
                if (item.Change.Revision < MinRevision) continue;
                var after = item.Current is { } current && selector.Matches(current);
                var before = item.Previous is { } previous && selector.Matches(previous);
                if (!after && !before) continue;
                response ??= new WatchResponse { Revision = revision };
                var change = item.Change.Clone();
                change.Matches = after;
                response.Changes.Add(change);
                if (response.Changes.Count == WatchChunk)
                {
                    response.Revision = change.Revision;
                    Enqueue(response);
                    response = null;
                }
            }
            if (response is not null)
            {
                response.Revision = revision;
                Enqueue(response);
            }
        }

        public void Complete()
        {
            _done = true;
            _queue.Writer.TryComplete();
        }

        public void Stop()
        {
            Complete();
            engine.Unwatch(this);
        }
    }

    /// <summary>
    /// The retained changes, oldest first, in a ring; a change pushed out by a newer one is compacted, and
    /// <see cref="CompactRevision"/> moves past it.
    /// </summary>
    internal sealed class History(int capacity)
    {
        public sealed record Item(OfferChange Change, OfferView? Previous, OfferView? Current);

        private readonly Item?[] _ring = new Item?[Math.Max(1, capacity)];
        private int _start;
        private int _count;

        /// <summary>The oldest revision a watch can start from.</summary>
        public long CompactRevision { get; private set; } = 1;

        public void Add(Item item)
        {
            if (_count == _ring.Length)
            {
                CompactRevision = _ring[_start]!.Change.Revision + 1;
                _ring[_start] = item;
                _start = (_start + 1) % _ring.Length;
                return;
            }
            _ring[(_start + _count) % _ring.Length] = item;
            _count++;
        }

        public void Clear(long compactRevision)
        {
            Array.Clear(_ring);
            _start = 0;
            _count = 0;
            CompactRevision = compactRevision;
        }

        /// <summary>Retained changes with revision >= <paramref name="revision"/>, oldest first.</summary>
        public List<Item> Since(long revision)
        {
            var items = new List<Item>();
            // Revisions ascend around the ring: binary search for the first one >= revision.
            int lo = 0, hi = _count;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (_ring[(_start + mid) % _ring.Length]!.Change.Revision < revision) lo = mid + 1; else hi = mid;
            }
            for (var i = lo; i < _count; i++) items.Add(_ring[(_start + i) % _ring.Length]!);
            return items;
        }
    }
}
