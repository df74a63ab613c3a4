namespace OnnxTrainer.Tests.Fixtures;

/// <summary>The <c>&lt;name&gt;.json</c> written beside each generated model.</summary>
public sealed record FixtureInfo(
    string Name,
    long TorchParameterCount,
    long[] InputShape,
    string BatchAxis,
    int NumClasses,
    int Opset,
    IReadOnlyList<FixtureParameter> Parameters);
