using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Inference;

/// <summary>How <see cref="ImageClassifier.Load"/> sets up a classifier. Every property has a usable default.</summary>
public sealed record ClassifierOptions
{
    /// <summary>How many predictions each image gets, best first; clamped to the number of classes. Default 5.</summary>
    public int TopK { get; init; } = 5;

    /// <summary>Threads ONNX Runtime uses inside one run; 0 lets it choose (one per physical core).</summary>
    public int Threads { get; init; }

    /// <summary>Where the model runs. Default <see cref="ExecutionProvider.Cpu"/>.</summary>
    public ExecutionProvider ExecutionProvider { get; init; } = ExecutionProvider.Cpu;

    /// <summary>Most images per run in <see cref="ImageClassifier.ClassifyBatch(IReadOnlyList{string})"/>; larger batches are split. Default 32.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>Class names in output order, for a model without <c>labels</c> metadata; overrides the metadata when set.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>Preprocessing for a model without onnx-trainer metadata; overrides the metadata when set.</summary>
    public PreprocessingSpec? Preprocessing { get; init; }
}
