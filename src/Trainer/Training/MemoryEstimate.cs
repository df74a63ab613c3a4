using System.Globalization;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;

namespace OnnxTrainer.Training;

/// <summary>
/// A training run's peak resident memory on the CPU, estimated before the first step from the classifier's graph (with
/// its value types from shape inference): the bytes of its parameters and of those that train, and per image the bytes
/// of the activations the backward keeps (every float output of a node that a trainable parameter influences) and of
/// the frozen part's largest layer (its input and output at once, the most the forward-only prefix holds), times the
/// batch. The factors are fitted to peaks of <c>train</c> measured on the shipped quickstart (ImageNet ResNet-18 at 224 px;
/// BENCHMARKS.md, "Training memory"): fully fine-tuned at batch 16 / 32 / 64, 1996 / 2612 / 3922 MiB, and as shipped (feature
/// extraction) at 16 / 64, 584 / 915 MiB, all within 1 %; torchvision's MobileNetV2, not fitted, fully fine-tuned at batch
/// 32: 3.1 GiB estimated, 2.8 measured. Each parameter lives in several copies (the graphs built in managed memory, the
/// sessions' initializers), a trainable one also as gradients per chunk and optimizer state, and ONNX Runtime's arenas hold
/// the activations with the backward's own buffers and the evaluation session's. Not counted: the data loaders'
/// decoded-image caches (<c>data.cache_mb</c>).
/// </summary>
/// <param name="ParameterBytes">Bytes of every parameter of the classifier.</param>
/// <param name="TrainableBytes">Bytes of the parameters that train.</param>
/// <param name="ActivationBytesPerImage">Bytes per image of the float outputs of the nodes that trainable parameters influence.</param>
/// <param name="FrozenBytesPerImage">Bytes per image of the frozen part's largest node (inputs and outputs).</param>
public sealed record MemoryEstimate(long ParameterBytes, long TrainableBytes, long ActivationBytesPerImage, long FrozenBytesPerImage, int BatchSize)
{
    /// <summary>The .NET runtime, ONNX Runtime and the rest of the process before a model is loaded.</summary>
    public const long RuntimeBytes = 160L << 20;

    /// <summary>Resident bytes per parameter byte, every parameter (copies in managed graphs and in sessions).</summary>
    public const double ParameterFactor = 5;

    /// <summary>Further resident bytes per trainable parameter byte (gradients per chunk, optimizer state, buffers).</summary>
    public const double TrainableFactor = 14.5;

    /// <summary>Resident bytes per byte of kept activations (the backward's buffers, the arenas' slack, evaluation).</summary>
    public const double ActivationFactor = 1.2;

    /// <summary>Resident bytes per byte of the frozen part's largest node (its session's arena).</summary>
    public const double FrozenFactor = 1.15;

    public long PeakBytes => RuntimeBytes + (long)(ParameterFactor * ParameterBytes + TrainableFactor * TrainableBytes
        + BatchSize * (ActivationFactor * ActivationBytesPerImage + FrozenFactor * FrozenBytesPerImage));

    /// <summary>The estimate for training <paramref name="trainable"/> of <paramref name="forward"/> (value types set) at a batch size.</summary>
    public static MemoryEstimate Of(Graph forward, IReadOnlyCollection<string> trainable, int batchSize)
    {
        var influenced = FrozenPrefix.Influenced(forward, trainable);
        long parameters = Parameters.Of(forward).Sum(Bytes);
        long training = trainable.Select(name => forward[name]).Sum(Bytes);
        long activations = 0, frozen = 0;
        foreach (var node in forward.Nodes)
        {
            if (node.Outputs.Any(influenced.Contains))
                activations += node.Outputs.Sum(BytesPerImage);
            else
                frozen = Math.Max(frozen, node.Inputs.Sum(v => v is null || v.IsInitializer ? 0 : BytesPerImage(v)) + node.Outputs.Sum(BytesPerImage));
        }
        return new MemoryEstimate(parameters, training, activations, frozen, batchSize);
    }

    /// <summary>The estimate for the run's most demanding stage.</summary>
    public static MemoryEstimate Of(RunSetup setup) =>
        setup.Plan.Stages.Select(stage => Of(setup.Assembly.Model.Graph, stage.Trainable, setup.Recipe.BatchSize)).MaxBy(e => e.PeakBytes)!;

    /// <summary>Throws <see cref="MemoryBudgetException"/>, with this estimate, where the peak would exceed the memory available.</summary>
    public void EnsureFits(AvailableMemory available)
    {
        if (PeakBytes > available.Bytes)
            throw new MemoryBudgetException($"training would need {this}, more than the {GiB(available.Bytes)} available ({available.Source}): " +
                $"lower batch_size or train fewer layers (fine_tune_last), or set {AvailableMemory.LimitVariable} to the bytes this run may use");
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"about {GiB(PeakBytes)} at its peak (estimated: {MiB(ParameterBytes)} of parameters, {MiB(TrainableBytes)} of them training, " +
        $"{MiB(ActivationBytesPerImage)} of activations per image kept for the backward and {MiB(FrozenBytesPerImage)} for the frozen layers, x batch {BatchSize})");

    private static string GiB(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F1} GiB");

    private static string MiB(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB");

    private static long Bytes(Value parameter) => parameter.Initializer is { } data ? data.ElementCount() * Math.Max(1, data.ElementType.ElementSize()) : 0;

    /// <summary>Bytes per image of a batch-major tensor (first dimension symbolic, the rest known); 0 for anything else.</summary>
    private static long BytesPerImage(Value value)
    {
        if (value.Type is not { Shape: { Count: > 0 } shape } type || shape[0].IsKnown || !type.ElementType.IsFloatingPoint()) return 0;
        long elements = 1;
        for (int i = 1; i < shape.Count; i++) elements *= shape[i].Value ?? 0;
        return elements * type.ElementType.ElementSize();
    }
}
