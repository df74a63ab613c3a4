namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>Memory layout of the model's image input; written to model metadata as <c>NCHW</c>.</summary>
public enum TensorLayout
{
    /// <summary>Batch, channel, height, width: one plane per channel.</summary>
    Nchw,
}
