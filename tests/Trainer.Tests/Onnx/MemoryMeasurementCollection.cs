using Xunit;

namespace OnnxTrainer.Tests.Onnx;

/// <summary>Tests that measure process-wide managed memory run alone, so other tests' allocations do not blur the numbers.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurementCollection
{
    public const string Name = "Memory measurement";
}
