namespace OnnxTrainer.Training;

/// <summary>
/// Where the loop is, saved in the checkpoint's opaque state so a resume continues at the same batch:
/// the stage, the batch within the epoch, the early-stopping counter, and the epoch's training figures so far.
/// </summary>
internal readonly record struct LoopPosition(int Stage, int Batch, int EpochsWithoutImprovement, EpochTally Tally = default)
{
    /// <summary>How many values <see cref="Encode"/> writes.</summary>
    public const int Length = 6;

    public IReadOnlyList<ulong> Encode() =>
        [(ulong)Stage, (ulong)Batch, (ulong)EpochsWithoutImprovement, BitConverter.DoubleToUInt64Bits(Tally.LossSum), (ulong)Tally.Correct, (ulong)Tally.Seen];

    /// <summary>The position, or null unless <paramref name="state"/> is <see cref="Length"/> values that fit it (counts that fit an int).</summary>
    public static LoopPosition? Decode(IReadOnlyList<ulong> state)
    {
        if (state.Count != Length || state.Where((_, i) => i != 3).Any(v => v > int.MaxValue)) return null;
        return new LoopPosition((int)state[0], (int)state[1], (int)state[2], new EpochTally(BitConverter.UInt64BitsToDouble(state[3]), (int)state[4], (int)state[5]));
    }
}
