namespace OnnxTrainer.Artifacts;

/// <summary>How a new head turns feature maps [N, C, H, W] into a vector.</summary>
public enum HeadPooling
{
    /// <summary>Global average pooling: C features, position-free (the usual head).</summary>
    Average,

    /// <summary>Flatten: C*H*W features that keep where things are (for cuts early in the network, where shape matters).</summary>
    Flatten,
}
