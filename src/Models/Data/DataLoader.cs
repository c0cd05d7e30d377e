// Turns an ImageDataset into float batches: seeded shuffling, optional centre padding to a minimum size, random crop
// with zero padding and horizontal flip, and per-channel normalisation ((p/255 − mean)/std; padding is pixel 0 as in
// torchvision's RandomCrop before Normalize). A background thread prepares the next batches while the model runs, so
// the compute threads never wait on data.
//
// Determinism: the order of epoch e is a shuffle by Rng(Derive(seed, e)) and the augmentation of the image at
// position p of that epoch draws from Rng(Derive(order seed, p)), so a batch is a function of (seed, epoch, index)
// alone — independent of prefetching, thread timing, and of where a resumed run starts.
using System.Collections.Concurrent;

namespace Standalone.Models.Data;

public sealed record LoaderOptions
{
    public int BatchSize { get; init; } = 128;
    public bool Shuffle { get; init; }
    public ulong Seed { get; init; }
    /// <summary>Random crop of the (padded) image after zero-padding this many pixels on every side; 0 = no crop.</summary>
    public int CropPadding { get; init; }
    public bool HorizontalFlip { get; init; }
    /// <summary>Images smaller than this (either side) are centred on a zero canvas of this size; 0 = keep the size.</summary>
    public int PadTo { get; init; }
    /// <summary>Per-channel mean and standard deviation of pixels in [0, 1]; null = 0 and 1.</summary>
    public float[]? Mean { get; init; }
    public float[]? Std { get; init; }
    /// <summary>Leave off a last, smaller batch (training) or keep it (evaluation).</summary>
    public bool DropLast { get; init; }
    /// <summary>Batches prepared ahead by the background thread.</summary>
    public int Prefetch { get; init; } = 2;
}

/// <summary>One batch on the host: images [Count, C, H, W] and labels; the arrays are recycled, valid until returned.</summary>
public sealed class HostBatch(int capacity, int imageSize)
{
    public float[] Images { get; } = new float[capacity * imageSize];
    public long[] Labels { get; } = new long[capacity];
    public int Count { get; internal set; }
}

public sealed class DataLoader
{
    private readonly float[] _scale, _shift;
    private readonly ConcurrentBag<HostBatch> _spare = new();

    public DataLoader(ImageDataset data, LoaderOptions options)
    {
        if (options.BatchSize <= 0) throw new ArgumentException($"data loader: batch size must be positive, got {options.BatchSize}");
        if (options.CropPadding < 0) throw new ArgumentException($"data loader: crop padding must not be negative, got {options.CropPadding}");
        if (options.Prefetch < 1) throw new ArgumentException($"data loader: prefetch must be at least 1, got {options.Prefetch}");
        if (data.Count == 0) throw new ArgumentException($"data loader: data set '{data.Name}' is empty");
        Data = data;
        Options = options;
        Channels = data.Channels;
        Height = Math.Max(data.Height, options.PadTo);
        Width = Math.Max(data.Width, options.PadTo);
        var mean = options.Mean ?? new float[Channels];
        var std = options.Std ?? Enumerable.Repeat(1f, Channels).ToArray();
        if (mean.Length != Channels || std.Length != Channels)
            throw new ArgumentException($"data loader: {mean.Length} means and {std.Length} standard deviations given for {Channels}-channel images of '{data.Name}'");
        // (p/255 − mean)/std = p·scale + shift
        _scale = new float[Channels];
        _shift = new float[Channels];
        for (int c = 0; c < Channels; c++)
        {
            if (!(std[c] > 0)) throw new ArgumentException($"data loader: standard deviation of channel {c} must be positive, got {std[c]}");
            _scale[c] = 1f / (255f * std[c]);
            _shift[c] = -mean[c] / std[c];
        }
    }

    public ImageDataset Data { get; }
    public LoaderOptions Options { get; }
    /// <summary>Shape of the images the loader emits.</summary>
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int ImageSize => Channels * Height * Width;

    public int BatchesPerEpoch => Options.DropLast ? Data.Count / Options.BatchSize : (Data.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>
    /// The batches of one epoch from batch skip on, prepared in the background. Give each batch back with Return once
    /// uploaded; breaking out of the loop stops the background work.
    /// </summary>
    public IEnumerable<HostBatch> Epoch(int epoch, int skip = 0)
    {
        int batches = BatchesPerEpoch;
        if (batches == 0) throw new InvalidOperationException($"data loader: {Data.Count} images of '{Data.Name}' make no whole batch of {Options.BatchSize}");
        var order = Order(epoch);
        ulong imageSeed = Rng.Derive(Options.Seed, 0x1000_0000UL + (ulong)epoch);
        using var ready = new BlockingCollection<HostBatch>(Options.Prefetch);
        using var stop = new CancellationTokenSource();
        var producer = Task.Run(() =>
        {
            try
            {
                for (int b = skip; b < batches && !stop.IsCancellationRequested; b++)
                {
                    var batch = Rent();
                    Fill(batch, b, order, imageSeed);
                    ready.Add(batch, stop.Token);
                }
            }
            catch (OperationCanceledException) { }
            finally { ready.CompleteAdding(); }
        });
        try
        {
            foreach (var batch in ready.GetConsumingEnumerable()) yield return batch;
            producer.GetAwaiter().GetResult(); // surfaces an exception thrown while preparing a batch
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(); } catch (AggregateException) { }
        }
    }

    /// <summary>
    /// Image index of the data set as an evaluation batch holds it — padded and normalised, never augmented —
    /// [Channels, Height, Width] in C order (explaining or scoring one image needs no background thread).
    /// </summary>
    public float[] Prepare(int index)
    {
        if ((uint)index >= (uint)Data.Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"data set '{Data.Name}': image {index} is outside its {Data.Count} images (0–{Data.Count - 1})");
        var image = new float[ImageSize];
        Render(Data.Image(index), image, 0, 0, false);
        return image;
    }

    /// <summary>Hands a batch's arrays back for reuse.</summary>
    public void Return(HostBatch batch) => _spare.Add(batch);

    /// <summary>The image indices of an epoch in the order they are served.</summary>
    public int[] Order(int epoch)
    {
        var order = new int[Data.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (Options.Shuffle) new Rng(Rng.Derive(Options.Seed, (ulong)epoch)).Shuffle(order.AsSpan());
        return order;
    }

    private HostBatch Rent() => _spare.TryTake(out var batch) ? batch : new HostBatch(Options.BatchSize, ImageSize);

    private void Fill(HostBatch batch, int index, int[] order, ulong imageSeed)
    {
        int first = index * Options.BatchSize, count = Math.Min(Options.BatchSize, order.Length - first);
        batch.Count = count;
        for (int k = 0; k < count; k++)
        {
            int position = first + k, image = order[position];
            batch.Labels[k] = Data.Labels[image];
            int dy = 0, dx = 0;
            bool flip = false;
            if (Options.CropPadding > 0 || Options.HorizontalFlip)
            {
                var rng = new Rng(Rng.Derive(imageSeed, (ulong)position));
                int p = Options.CropPadding;
                if (p > 0) { dy = rng.NextInt(2 * p + 1) - p; dx = rng.NextInt(2 * p + 1) - p; }
                if (Options.HorizontalFlip) flip = rng.NextInt(2) == 1;
            }
            Render(Data.Image(image), batch.Images.AsSpan(k * ImageSize, ImageSize), dy, dx, flip);
        }
    }

    /// <summary>
    /// out[c, y, x] = normalise(canvas[c, y + dy, x' + dx]) with x' = W − 1 − x when flipped, where the canvas is the image
    /// centred on a zero Height×Width field and zero outside it.
    /// </summary>
    private void Render(ReadOnlySpan<byte> image, Span<float> output, int dy, int dx, bool flip)
    {
        int h = Data.Height, w = Data.Width, top = (Height - h) / 2, left = (Width - w) / 2;
        for (int c = 0; c < Channels; c++)
        {
            float scale = _scale[c], shift = _shift[c];
            var plane = image.Slice(c * h * w, h * w);
            var outPlane = output.Slice(c * Height * Width, Height * Width);
            for (int y = 0; y < Height; y++)
            {
                var row = outPlane.Slice(y * Width, Width);
                int sy = y + dy - top;
                if ((uint)sy >= (uint)h) { row.Fill(shift); continue; }
                var src = plane.Slice(sy * w, w);
                for (int x = 0; x < Width; x++)
                {
                    int sx = (flip ? Width - 1 - x : x) + dx - left;
                    row[x] = (uint)sx < (uint)w ? src[sx] * scale + shift : shift;
                }
            }
        }
    }
}
