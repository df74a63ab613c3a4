namespace OnnxTrainer.Inference;

/// <summary>
/// The value names of an exported classifier (<c>model.onnx</c>, contract): written by the trainer's exporter and
/// architecture builders, read by <see cref="ImageClassifier"/>. Its metadata keys are <see cref="ClassifierMetadata"/>.
/// </summary>
public static class ClassifierContract
{
    /// <summary>The image batch (float, N x C x H x W, or N x H x W x C for channels-last models).</summary>
    public const string Input = "input";

    /// <summary>The classifier's scores before the softmax.</summary>
    public const string Logits = "logits";

    /// <summary>The softmax of the logits.</summary>
    public const string Probabilities = "probabilities";

    /// <summary>The symbolic batch dimension of <see cref="Input"/>.</summary>
    public const string BatchDimension = "N";
}
