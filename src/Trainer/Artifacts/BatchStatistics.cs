namespace OnnxTrainer.Artifacts;

/// <summary>
/// One BatchNormalization switched to training mode by <see cref="BatchNormTraining"/>: the graph outputs that
/// carry its batch statistics and the running statistics they update after each step.
/// </summary>
/// <param name="NodeName">The replaced BatchNormalization node.</param>
/// <param name="RunningMean">The running mean initializer of the forward model (e.g. <c>layer1.0.bn1.running_mean</c>).</param>
/// <param name="RunningVariance">The running variance initializer of the forward model.</param>
/// <param name="BatchMean">Graph output with the batch mean per channel (<c>&lt;RunningMean&gt;.batch</c>).</param>
/// <param name="BatchVariance">Graph output with the unbiased batch variance per channel (<c>&lt;RunningVariance&gt;.batch</c>).</param>
/// <param name="Momentum">torch's momentum (weight of the batch value in the update), e.g. 0.1.</param>
public sealed record BatchStatistics(string NodeName, string RunningMean, string RunningVariance, string BatchMean, string BatchVariance, double Momentum);
