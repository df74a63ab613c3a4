using System.Security.Cryptography;
using System.Text.Json;
using OnnxTrainer.Ir;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// Training state on disk: <c>&lt;base&gt;.safetensors</c> (parameters and optimizer state by name, float32)
/// and <c>&lt;base&gt;.json</c> (step, epoch, learning rate, RNG state, best metric, recipe hash, trainable
/// parameter names, the SHA-256 of the safetensors file, and the SHA-256 of the manifest itself). Saving is crash-safe: whatever moment a save
/// is interrupted at, <see cref="Load"/> finds either the previous checkpoint or the new one, complete.
/// </summary>
public sealed record Checkpoint
{
    private const string DefaultBaseName = "checkpoint";
    /// <summary>2: the manifest carries its own SHA-256.</summary>
    public const int FormatVersion = 2;

    /// <summary>Optimizer steps taken (the optimizer graph's <c>step</c> input of the next update is Step + 1).</summary>
    public required long Step { get; init; }
    public required int Epoch { get; init; }
    public required double LearningRate { get; init; }
    /// <summary>The training loop's random-generator state, opaque here.</summary>
    public IReadOnlyList<ulong> RngState { get; init; } = [];
    public string? BestMetricName { get; init; }
    public double? BestMetric { get; init; }
    public string RecipeHash { get; init; } = "";
    public IReadOnlyList<string> TrainableParameters { get; init; } = [];
    /// <summary>Training files the run found damaged so far: a resumed run skips them as the run did, without decoding them.</summary>
    public IReadOnlyList<string> SkippedFiles { get; init; } = [];
    /// <summary>Parameters and optimizer state (<c>&lt;param&gt;.exp_avg</c>, ...), float32.</summary>
    public required IReadOnlyDictionary<string, Tensor> Tensors { get; init; }

    public static string TensorsPath(string directory, string baseName = DefaultBaseName) => Path.Combine(directory, baseName + ".safetensors");

    public static string ManifestPath(string directory, string baseName = DefaultBaseName) => Path.Combine(directory, baseName + ".json");

    /// <summary>Whether <see cref="Load"/> has a checkpoint to find (its tensors file exists from a save's first commit step on).</summary>
    public static bool Exists(string directory, string baseName = DefaultBaseName) => File.Exists(TensorsPath(directory, baseName));

    /// <summary>A tensor that must exist with this shape, e.g. a parameter when resuming into a model.</summary>
    public Tensor Require(string name, IReadOnlyList<long> shape)
    {
        if (!Tensors.TryGetValue(name, out var tensor)) throw new CheckpointFormatException($"the checkpoint has no tensor '{name}'");
        if (!tensor.Dims.SequenceEqual(shape))
            throw new CheckpointFormatException($"checkpoint tensor '{name}' has shape [{string.Join(", ", tensor.Dims)}], expected [{string.Join(", ", shape)}]");
        return tensor;
    }

    /// <summary>
    /// Writes both files as temp files first (flushed to disk), then renames the safetensors file and the
    /// manifest last, so a reader that sees a manifest sees the tensors it describes (checked by SHA-256).
    /// </summary>
    public void Save(string directory, string baseName = DefaultBaseName)
    {
        Validate();
        Directory.CreateDirectory(directory);
        string tensorsPath = TensorsPath(directory, baseName), manifestPath = ManifestPath(directory, baseName);
        string tensorsTemp = tensorsPath + ".tmp", manifestTemp = manifestPath + ".tmp";
        // A manifest temp without a tensors temp means the last save stopped between its two renames: its
        // tensors are in place, so finish its commit before this save overwrites the temp files.
        if (File.Exists(manifestTemp) && !File.Exists(tensorsTemp)) File.Move(manifestTemp, manifestPath, overwrite: true);

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var stream = new FileStream(tensorsTemp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            SafeTensors.Write(stream, Tensors, metadata: null, hash);
            stream.Flush(flushToDisk: true);
        }
        var unsigned = ToManifest(Convert.ToHexStringLower(hash.GetHashAndReset()));
        var manifest = unsigned with { ManifestSha256 = Digest(unsigned) };
        using (var stream = new FileStream(manifestTemp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, manifest, CheckpointJsonContext.Default.CheckpointManifest);
            stream.Flush(flushToDisk: true);
        }
        File.Move(tensorsTemp, tensorsPath, overwrite: true);
        File.Move(manifestTemp, manifestPath, overwrite: true);
    }

    /// <summary>
    /// Loads the checkpoint whose manifest matches the safetensors file. When a save stopped between its two
    /// renames, the matching manifest is still the temp file beside the new tensors, and that one is used.
    /// </summary>
    public static Checkpoint Load(string directory, string baseName = DefaultBaseName)
    {
        string tensorsPath = TensorsPath(directory, baseName), manifestPath = ManifestPath(directory, baseName);
        if (!File.Exists(tensorsPath)) throw new CheckpointFormatException($"{tensorsPath}: no such file; there is no checkpoint '{baseName}' in {directory}");

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var (tensors, _) = SafeTensors.Read(tensorsPath, hash);
        string sha256 = Convert.ToHexStringLower(hash.GetHashAndReset());

        var manifest = ReadManifest(manifestPath, strict: true);
        if (manifest?.TensorsSha256 != sha256)
        {
            var pending = ReadManifest(manifestPath + ".tmp", strict: false);
            if (pending?.TensorsSha256 == sha256) (manifest, manifestPath) = (pending, manifestPath + ".tmp");
            else if (manifest is null) throw new CheckpointFormatException($"{manifestPath}: no such file; {tensorsPath} has no manifest");
            else throw new CheckpointFormatException(
                $"{tensorsPath} does not belong to {manifestPath} (SHA-256 {sha256}, the manifest expects {manifest.TensorsSha256}): it was modified or replaced");
        }
        if (manifest.FormatVersion > FormatVersion)
            throw new CheckpointFormatException($"{manifestPath}: format version {manifest.FormatVersion} is newer than this tool's ({FormatVersion})");
        foreach (var (name, tensor) in tensors)
            if (tensor.ElementType != DataType.Float)
                throw new CheckpointFormatException($"{tensorsPath}: tensor '{name}' is {SafeTensors.DTypeName(tensor.ElementType)}; a checkpoint holds F32 tensors");
        foreach (var name in manifest.TrainableParameters)
            if (!tensors.ContainsKey(name))
                throw new CheckpointFormatException($"{manifestPath}: trainable parameter '{name}' is not in {tensorsPath}");
        if (manifest.ManifestSha256 is null || manifest.ManifestSha256 != Digest(manifest))
            throw new CheckpointFormatException(manifest.ManifestSha256 is null
                ? $"{manifestPath}: the manifest carries no SHA-256 of itself (written by an older onnx-trainer, or edited); start the run afresh"
                : $"{manifestPath}: the manifest does not match its SHA-256 (manifest_sha256): it was edited; start the run afresh");

        return new Checkpoint
        {
            Step = manifest.Step,
            Epoch = manifest.Epoch,
            LearningRate = manifest.LearningRate,
            RngState = manifest.RngState,
            BestMetricName = manifest.BestMetricName,
            BestMetric = manifest.BestMetric,
            RecipeHash = manifest.RecipeHash,
            TrainableParameters = manifest.TrainableParameters,
            SkippedFiles = manifest.SkippedFiles ?? [],
            Tensors = tensors,
        };
    }

    /// <summary>SHA-256 of the manifest's JSON, as saved, with <see cref="CheckpointManifest.ManifestSha256"/> null.</summary>
    private static string Digest(CheckpointManifest unsigned) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(unsigned with { ManifestSha256 = null }, CheckpointJsonContext.Default.CheckpointManifest)));

    /// <summary>The manifest, or null when the file is absent (or, unless <paramref name="strict"/>, unreadable: an unfinished temp file).</summary>
    private static CheckpointManifest? ReadManifest(string path, bool strict)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize(stream, CheckpointJsonContext.Default.CheckpointManifest)
                ?? throw new JsonException("the file holds null");
        }
        catch (JsonException e) when (strict)
        {
            throw new CheckpointFormatException($"{path}: not a valid checkpoint manifest ({e.Message})", e);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private CheckpointManifest ToManifest(string sha256) => new()
    {
        FormatVersion = FormatVersion,
        Step = Step,
        Epoch = Epoch,
        LearningRate = LearningRate,
        RngState = [.. RngState],
        BestMetricName = BestMetricName,
        BestMetric = BestMetric,
        RecipeHash = RecipeHash,
        TrainableParameters = [.. TrainableParameters],
        SkippedFiles = [.. SkippedFiles],
        TensorsSha256 = sha256,
    };

    private void Validate()
    {
        if (Step < 0 || Epoch < 0) throw new ArgumentException($"step ({Step}) and epoch ({Epoch}) must be >= 0");
        if (!double.IsFinite(LearningRate)) throw new ArgumentException($"the learning rate must be finite (got {LearningRate})");
        if (BestMetric is { } best && !double.IsFinite(best)) throw new ArgumentException($"the best metric must be finite (got {best})");
        foreach (var (name, tensor) in Tensors)
            if (tensor.ElementType != DataType.Float)
                throw new ArgumentException($"tensor '{name}' is {tensor.ElementType.OnnxName()}; a checkpoint holds float32 tensors");
        foreach (var name in TrainableParameters)
            if (!Tensors.ContainsKey(name)) throw new ArgumentException($"trainable parameter '{name}' has no tensor in the checkpoint");
    }
}
