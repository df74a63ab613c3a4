namespace OnnxTrainer.Training;

/// <summary>
/// Where the loop is, saved in the checkpoint's opaque state so a resume continues at the same batch:
/// the stage, the batch within the epoch, and the early-stopping counter.
/// </summary>
internal readonly record struct LoopPosition(int Stage, int Batch, int EpochsWithoutImprovement)
{
    public IReadOnlyList<ulong> Encode() => [(ulong)Stage, (ulong)Batch, (ulong)EpochsWithoutImprovement];

    public static LoopPosition Decode(IReadOnlyList<ulong> state) =>
        state.Count >= 3 ? new LoopPosition((int)state[0], (int)state[1], (int)state[2]) : default;
}
