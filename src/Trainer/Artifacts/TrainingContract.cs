namespace OnnxTrainer.Artifacts;

/// <summary>
/// The value names of the training artifacts (contract; see DESIGN.md "Training artifacts"): the training and eval
/// graphs read <c>input</c> (<see cref="Inference.ClassifierContract.Input"/>), <see cref="Labels"/> and the trainable
/// parameters under their initializer names, and write <see cref="Loss"/>, <c>logits</c> and one
/// <see cref="Gradient"/> per parameter; the optimizer graph reads <see cref="LearningRate"/>, <see cref="Step"/>,
/// each parameter, its gradient and its <see cref="State"/>, and writes each of them <see cref="Updated"/>.
/// </summary>
public static class TrainingContract
{
    /// <summary>The class index of each image (int64, N).</summary>
    public const string Labels = "labels";

    /// <summary>The mean cross-entropy of the batch (float scalar).</summary>
    public const string Loss = "loss";

    /// <summary>The optimizer step's learning rate (float scalar).</summary>
    public const string LearningRate = "learning_rate";

    /// <summary>The 1-based count of optimizer steps including this one (int64 scalar).</summary>
    public const string Step = "step";

    public static string Gradient(string parameter) => parameter + "_grad";

    /// <summary>An optimizer state tensor of <paramref name="parameter"/>, such as its <c>exp_avg</c>.</summary>
    public static string State(string parameter, string suffix) => $"{parameter}.{suffix}";

    /// <summary>The optimizer's new value of a parameter or state tensor.</summary>
    public static string Updated(string input) => input + ".out";
}
