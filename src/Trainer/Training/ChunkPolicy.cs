using OnnxTrainer.Ir;

namespace OnnxTrainer.Training;

/// <summary>
/// How many chunks a training batch is split into (<see cref="DataParallelStep"/>). Chunks gain where the work is
/// spread over large planes: there the backward's copying operators, which ONNX Runtime runs on one thread, and its
/// many small nodes leave a core idle. They lose where the work is GEMMs over big weights on small planes, which ONNX
/// Runtime already spreads over every thread: each chunk then only adds its own weight packing and gradient, and the
/// sum of the gradients. The measure is the trainable layers' output positions per chunk, a mean over the layers
/// weighted by their work (<see cref="PositionsPerImage"/> times images per chunk). On the 2-core development machine
/// (BENCHMARKS.md, "Batch chunks") two chunks gained at 1,570-18,600 positions (the 32 px backbone at batch 8-64,
/// ResNet-18 and MobileNetV2 at 224 px, batch 16, every layer training, ResNet-18's last block at batch 64: 1-25 %)
/// and lost at 380-780 (the 7x7 last blocks at batch 16 and 32: 3-45 %); the threshold sits between, on a log scale.
/// </summary>
public static class ChunkPolicy
{
    private const double MinimumPositionsPerChunk = 1024;

    /// <summary>
    /// Chunks for a training graph: the most (up to one per thread and one per image) that keep
    /// <see cref="MinimumPositionsPerChunk"/>; one where images interact (batch statistics) or where the tensors stay on a device; the
    /// execution options' count where they set one.
    /// </summary>
    /// <param name="positionsPerImage">The trainable layers' output positions per image (<see cref="PositionsPerImage"/>).</param>
    public static int Chunks(ExecutionOptions execution, bool batchStatistics, double positionsPerImage, int batchSize)
    {
        if (execution.KeepsTensorsOnDevice || batchStatistics) return 1;
        if (execution.Chunks > 0) return execution.Chunks;
        double byPositions = Math.Floor(positionsPerImage * batchSize / MinimumPositionsPerChunk);
        return (int)Math.Clamp(byPositions, 1, Math.Min(execution.ResolvedThreads, batchSize));
    }

    /// <summary>
    /// Output positions per image of the Conv, Gemm and MatMul layers with a trainable weight, averaged with each
    /// layer's multiply-adds as weight: a Conv's output plane (where known, else 1), a MatMul's rows per image, a Gemm's 1.
    /// </summary>
    /// <param name="forward">The forward graph with value types (shape inference run).</param>
    public static double PositionsPerImage(Graph forward, IReadOnlyCollection<string> trainable)
    {
        var names = trainable.ToHashSet();
        double work = 0, weighted = 0;
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
            double positions = perImage?.Aggregate(1L, (product, d) => product * (d.Value ?? 1)) ?? 1;
            double multiplyAdds = Tensor.ElementCount(dims) * positions;
            work += multiplyAdds;
            weighted += multiplyAdds * positions;
        }
        return work == 0 ? 0 : weighted / work;
    }
}
