using System.Text.Json.Serialization;

namespace OnnxTrainer.Artifacts;

/// <summary>Source-generated (reflection-free, trimming-safe) JSON for <c>checkpoint.json</c>.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(CheckpointManifest))]
internal sealed partial class CheckpointJsonContext : JsonSerializerContext;
