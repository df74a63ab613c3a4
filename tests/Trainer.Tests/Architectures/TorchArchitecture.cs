using OnnxTrainer.Architectures;

namespace OnnxTrainer.Tests.Architectures;

/// <summary>One torch reference configuration: what torch's model.parameters() and BatchNorm buffers are.</summary>
internal sealed record TorchArchitecture(
    string Name,
    string Family,
    ArchitectureOptions Options,
    long ParameterCount,
    IReadOnlyList<(string Name, long[] Shape)> Parameters,
    IReadOnlyList<(string Name, long[] Shape)> RunningStatistics);
