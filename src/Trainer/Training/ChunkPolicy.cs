using OnnxTrainer.Ir;

namespace OnnxTrainer.Training;

/// <summary>
/// How many chunks a training batch is split into (<see cref="DataParallelStep"/>). Chunks gain where ONNX Runtime
/// leaves cores idle: many small and copying nodes over large activations. They lose where weights dominate: every
/// chunk packs each weight for its own GEMMs and writes its own gradient, and the gradients are then summed. The
/// measure is how often a chunk uses each trainable weight: <see cref="WeightReuse"/> per image times the images
/// per chunk. On the 2-core development machine (BENCHMARKS.md, "Batch chunks") two chunks gained at 690-1690 uses
/// (MobileNetV2 and ResNet-18 full at 224 px, batch 16: 5-13 %; the 32 px backbone, batch 64: 25 %) and lost at
/// 160-370 (their last blocks: 3-45 %); the threshold sits between.
/// </summary>
public static class ChunkPolicy
{
    public const double MinimumWeightUsesPerChunk = 512;

    /// <summary>
    /// Chunks for a training graph: the most (up to one per thread and one per image) that keep
    /// <see cref="MinimumWeightUsesPerChunk"/>; one where images interact (batch statistics) or off the CPU; the
    /// execution options' count where they set one.
    /// </summary>
    /// <param name="weightReuse">Uses of each trainable weight per image (<see cref="WeightReuse"/>).</param>
    public static int Chunks(ExecutionOptions execution, bool batchStatistics, double weightReuse, int batchSize)
    {
        if (execution.Device != "cpu" || batchStatistics) return 1;
        if (execution.Chunks > 0) return execution.Chunks;
        double byReuse = Math.Floor(weightReuse * batchSize / MinimumWeightUsesPerChunk);
        return (int)Math.Clamp(byReuse, 1, Math.Min(execution.ResolvedThreads, batchSize));
    }

    /// <summary>
    /// How many times one image uses each trainable weight of the Conv, Gemm and MatMul layers, on average weighted by
    /// the weights' sizes: a Conv's output positions (where known, else 1), a MatMul's rows per image, a Gemm's 1.
    /// </summary>
    /// <param name="forward">The forward graph with value types (shape inference run).</param>
    public static double WeightReuse(Graph forward, IReadOnlyCollection<string> trainable)
    {
        var names = trainable.ToHashSet();
        double weights = 0, uses = 0;
        foreach (var node in forward.Nodes)
        {
            if (node.OpType is not ("Conv" or "Gemm" or "MatMul") || node.Input(1) is not { } weight || !names.Contains(weight.Name)) continue;
            if (weight.Type?.KnownDims is not { } dims) continue;
            var output = node.Output().Type?.Shape;
            var perImage = node.OpType switch
            {
                "Conv" => output?.Skip(2),
                "MatMul" => output?.Skip(1).SkipLast(1),
                _ => [],
            };
            long positions = perImage?.Aggregate(1L, (product, d) => product * (d.Value ?? 1)) ?? 1;
            long size = Tensor.ElementCount(dims);
            weights += size;
            uses += (double)size * positions;
        }
        return weights == 0 ? 0 : uses / weights;
    }
}
