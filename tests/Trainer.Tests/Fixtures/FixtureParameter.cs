namespace OnnxTrainer.Tests.Fixtures;

/// <summary>One torch parameter and the ONNX initializer that holds it.</summary>
public sealed record FixtureParameter(string Name, string Initializer, long[] Shape);
