namespace OnnxTrainer.Data;

/// <summary>
/// SplitMix64 streams keyed by (seed, purpose, a, b): every draw is a pure function of its key, so
/// shuffles and augmentations reproduce across runs, thread schedules, resumes and .NET versions
/// (unlike <see cref="Random"/>, whose seeded sequence is not a documented contract).
/// </summary>
internal struct DeterministicRandom
{
    /// <summary>Separates the streams used for different decisions.</summary>
    public enum Purpose : ulong
    {
        Shuffle = 1,
        Augment = 2,
        Split = 3,
        Dropout = 4,
    }

    private ulong _state;

    public DeterministicRandom(long seed, Purpose purpose, long a = 0, long b = 0)
    {
        _state = Mix(Mix(Mix((ulong)seed) ^ (ulong)purpose) ^ (ulong)a) ^ Mix((ulong)b + 0x632BE59BD9B4E019UL);
    }

    private ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [<paramref name="min"/>, <paramref name="max"/>).</summary>
    public double Uniform(double min, double max) => min + (max - min) * NextDouble();

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>).</summary>
    public int NextInt(int maxExclusive) => (int)(((NextUInt64() >> 32) * (ulong)maxExclusive) >> 32);

    /// <summary>Fisher-Yates shuffle.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
