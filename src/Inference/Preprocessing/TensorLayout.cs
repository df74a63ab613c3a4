namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>Memory layout of the model's image input; written to model metadata as <c>NCHW</c> or <c>NHWC</c>.</summary>
public enum TensorLayout
{
    /// <summary>Batch, channel, height, width: one plane per channel (PyTorch, CNTK, Caffe exports).</summary>
    Nchw,

    /// <summary>Batch, height, width, channel: channels interleaved per pixel (Keras and TensorFlow exports).</summary>
    Nhwc,
}
