// Seeded pseudo-random numbers (xoshiro256**), identical on every platform, so seeded fills, shuffles and
// dropout masks are reproducible. Not thread-safe: one generator per consumer.
namespace Standalone;

public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;

    public Rng(ulong seed)
    {
        // SplitMix64 expands the seed into the 256-bit state.
        Seed = seed;
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    public ulong Seed { get; }

    /// <summary>The 256-bit state, saved and restored by checkpoints so that a resumed run continues the same stream.</summary>
    public (ulong S0, ulong S1, ulong S2, ulong S3) State
    {
        get => (_s0, _s1, _s2, _s3);
        set
        {
            if ((value.S0 | value.S1 | value.S2 | value.S3) == 0) throw new ArgumentException("an all-zero xoshiro256** state never leaves zero");
            (_s0, _s1, _s2, _s3) = value;
        }
    }

    /// <summary>The state as four hexadecimal words (how checkpoints store it).</summary>
    public string[] StateWords
    {
        get => [_s0.ToString("x16"), _s1.ToString("x16"), _s2.ToString("x16"), _s3.ToString("x16")];
        set
        {
            var words = new ulong[4];
            for (int i = 0; i < 4; i++)
                if (value is not { Length: 4 } || value[i] is not { Length: > 0 and <= 16 } word ||
                    !ulong.TryParse(word, System.Globalization.NumberStyles.AllowHexSpecifier, null, out words[i]))
                    throw new InvalidDataException($"a generator state must be four hexadecimal words of up to 16 digits, got [{string.Join(", ", value ?? [])}]");
            if ((words[0] | words[1] | words[2] | words[3]) == 0) throw new InvalidDataException("a generator state of four zero words never leaves zero");
            (_s0, _s1, _s2, _s3) = (words[0], words[1], words[2], words[3]);
        }
    }

    /// <summary>A well-mixed seed derived from a seed and a stream number (per-epoch and per-image generators).</summary>
    public static ulong Derive(ulong seed, ulong stream)
    {
        ulong x = seed ^ (stream * 0xD1B54A32D192ED03UL);
        return SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => (int)((NextUInt64() >> 33) * (ulong)n >> 31);

    /// <summary>Standard normal (Box–Muller).</summary>
    public double NextNormal()
    {
        double u1 = 1.0 - NextDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates shuffle.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
