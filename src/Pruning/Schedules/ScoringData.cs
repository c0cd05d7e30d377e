// The images criteria score on. Normally a stream of fresh, un-augmented training batches (each scoring call takes
// the next ScoreBatches batches: SInGE's "fresh mini-batches"); in the scarce-data scenario a fixed, class-balanced
// set of ScorePerClass images per class, used for every call (the LRP paper's 10 per class).
using Standalone.Models.Data;
using Standalone.Models.Training;
using Standalone.Pruning.Criteria;

namespace Standalone.Pruning.Schedules;

public sealed class ScoringData
{
    private readonly DataLoader _loader;
    private readonly int _batchesPerCall;
    private readonly bool _fixed;
    private IEnumerator<HostBatch>? _stream;
    private int _epoch, _batch;

    public ScoringData(ImageDataset train, DataInfo data, PruneOptions options)
    {
        var source = train;
        _fixed = options.ScorePerClass > 0;
        if (_fixed)
        {
            var indices = new List<int>();
            var taken = new int[train.Classes.Count];
            // A seeded shuffle, then the first ScorePerClass images of each class.
            var rng = new Rng(options.Seed ^ 0xDA7A);
            var order = Enumerable.Range(0, train.Count).ToArray();
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = (int)(rng.NextDouble() * (i + 1));
                (order[i], order[j]) = (order[j], order[i]);
            }
            foreach (int i in order)
            {
                int label = train.Labels[i];
                if (taken[label] < options.ScorePerClass) { taken[label]++; indices.Add(i); }
            }
            source = train.Subset(indices, $"{train.Name} ({options.ScorePerClass} per class)");
        }
        Images = _fixed ? source.Count : options.ScoreBatches * options.ScoreBatchSize;
        _loader = new DataLoader(source, new LoaderOptions
        {
            BatchSize = options.ScoreBatchSize,
            Shuffle = !_fixed,
            Seed = options.Seed ^ 0x5C0E,
            PadTo = data.PadTo,
            Mean = data.Mean,
            Std = data.Std,
            Prefetch = 1,
        });
        _batchesPerCall = _fixed ? _loader.BatchesPerEpoch : options.ScoreBatches;
    }

    /// <summary>Images per scoring call.</summary>
    public int Images { get; }

    /// <summary>Position in the stream of fresh batches (epoch, batch), saved by resumable runs.</summary>
    public (int Epoch, int Batch) Position
    {
        get => (_epoch, _batch);
        set
        {
            _stream?.Dispose();
            _stream = null;
            (_epoch, _batch) = value;
        }
    }

    /// <summary>The batches of the next scoring call, as tensors (freed by the caller's tensor scope or the criterion).</summary>
    public IEnumerable<ScoringBatch> Next()
    {
        if (_fixed) Position = (0, 0);
        for (int i = 0; i < _batchesPerCall; i++)
        {
            var batch = NextBatch();
            var (x, y) = Evaluator.Upload(_loader, batch);
            _loader.Return(batch);
            yield return new ScoringBatch(x, y);
        }
    }

    private HostBatch NextBatch()
    {
        while (true)
        {
            _stream ??= _loader.Epoch(_epoch, _batch).GetEnumerator();
            if (_stream.MoveNext())
            {
                _batch++;
                return _stream.Current;
            }
            _stream.Dispose();
            _stream = null;
            _epoch++;
            _batch = 0;
        }
    }
}
