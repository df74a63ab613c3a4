using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Ir;
using OnnxTrainer.Tests.Onnx;
using Xunit;

namespace OnnxTrainer.Tests.Artifacts;

public class CheckpointTests
{
    private static Checkpoint Sample(long step = 120, float fill = 0.5f) => new()
    {
        Step = step,
        Epoch = 3,
        LearningRate = 0.1 / 3,
        RngState = [0x9E3779B97F4A7C15, 1, ulong.MaxValue, 42],
        BestMetricName = "val_accuracy",
        BestMetric = 0.8125,
        RecipeHash = "sha256:4f2a",
        TrainableParameters = ["head.weight", "head.bias"],
        SkippedFiles = ["/data/cat/broken.jpg"],
        Tensors = new Dictionary<string, Tensor>
        {
            ["head.weight"] = Tensor.FromFloats([2, 3], [fill, -1f, 2f, float.Epsilon, -0f, 1e-30f]),
            ["head.bias"] = Tensor.FromFloats([2], [fill, 0.25f]),
            ["head.weight.exp_avg"] = Tensor.FromFloats([2, 3], [1f, 2f, 3f, 4f, 5f, 6f]),
            ["scalar"] = Tensor.FromFloats([], [7f]),
        },
    };

    private static void AssertSame(Checkpoint expected, Checkpoint actual)
    {
        Assert.Equal(expected with { Tensors = actual.Tensors, RngState = actual.RngState, TrainableParameters = actual.TrainableParameters, SkippedFiles = actual.SkippedFiles }, actual);
        Assert.Equal(expected.RngState, actual.RngState);
        Assert.Equal(expected.SkippedFiles, actual.SkippedFiles);
        Assert.Equal(expected.TrainableParameters, actual.TrainableParameters);
        Assert.Equal(expected.Tensors.Keys.Order(), actual.Tensors.Keys.Order());
        foreach (var (name, tensor) in expected.Tensors)
        {
            Assert.Equal(tensor.Dims, actual.Tensors[name].Dims);
            Assert.Equal(tensor.Data.ToArray(), actual.Tensors[name].Data.ToArray());
        }
    }

    [Fact]
    public void SaveThenLoad_AnyCheckpoint_RoundTripsExactly()
    {
        using var folder = new TempFolder();
        var checkpoint = Sample();

        checkpoint.Save(folder.Path);
        var loaded = Checkpoint.Load(folder.Path);
        loaded.Save(folder.Sub("again"));

        AssertSame(checkpoint, loaded);
        Assert.Equal(File.ReadAllBytes(Checkpoint.TensorsPath(folder.Path)), File.ReadAllBytes(Checkpoint.TensorsPath(folder.Path + "/again")));
        Assert.Equal(File.ReadAllBytes(Checkpoint.ManifestPath(folder.Path)), File.ReadAllBytes(Checkpoint.ManifestPath(folder.Path + "/again")));
    }

    [Fact]
    public void Exists_BeforeAndAfterSave_TellsWhetherThereIsOneToLoad()
    {
        using var folder = new TempFolder();

        bool before = Checkpoint.Exists(folder.Path);
        Sample().Save(folder.Path);

        Assert.False(before);
        Assert.True(Checkpoint.Exists(folder.Path));
        Assert.False(Checkpoint.Exists(folder.Path, "best"));
    }

    [Fact]
    public void Save_AnyCheckpoint_WritesTheContractFilesOnly()
    {
        using var folder = new TempFolder();

        Sample().Save(folder.Path, "best");

        Assert.Equal(["best.json", "best.safetensors"], Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order());
        var json = JsonNode.Parse(File.ReadAllText(folder.File("best.json")))!.AsObject();
        Assert.Equal(["format_version", "step", "epoch", "learning_rate", "rng_state", "best_metric_name", "best_metric",
            "recipe_hash", "trainable_parameters", "skipped_files", "tensors_sha256", "manifest_sha256"], json.Select(p => p.Key));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(folder.File("best.safetensors")))), (string?)json["tensors_sha256"]);
        Assert.Equal(ulong.MaxValue, (ulong)json["rng_state"]![2]!);
        Assert.Equal(4, SafeTensors.Read(folder.File("best.safetensors")).Tensors.Count);
    }

    [Fact]
    public void Load_SaveCrashedBeforeRenames_LoadsThePreviousCheckpoint()
    {
        using var folder = new TempFolder();
        var previous = Sample(step: 100);
        previous.Save(folder.Path);
        // The next save died while writing its temp files.
        File.WriteAllBytes(Checkpoint.TensorsPath(folder.Path) + ".tmp", [1, 2, 3]);
        File.WriteAllText(Checkpoint.ManifestPath(folder.Path) + ".tmp", "{\"format_version\": 1, \"st");

        AssertSame(previous, Checkpoint.Load(folder.Path));
        var next = Sample(step: 200, fill: 9f);
        next.Save(folder.Path);
        AssertSame(next, Checkpoint.Load(folder.Path));
        Assert.Equal(2, Directory.GetFiles(folder.Path).Length);
    }

    [Fact]
    public void Load_SaveCrashedBetweenRenames_LoadsTheNewCheckpoint()
    {
        using var folder = new TempFolder();
        var next = Sample(step: 200, fill: 9f);
        CrashBetweenRenames(folder, Sample(step: 100), next);

        AssertSame(next, Checkpoint.Load(folder.Path));
    }

    /// <summary>A further save overwrites the temp manifest, so it must first finish the crashed save's commit.</summary>
    [Fact]
    public void Save_AfterASaveCrashedBetweenRenames_FirstCompletesThatSave()
    {
        using var folder = new TempFolder();
        var next = Sample(step: 200, fill: 9f);
        CrashBetweenRenames(folder, Sample(step: 100), next);
        string manifest = Checkpoint.ManifestPath(folder.Path);
        byte[] nextManifest = File.ReadAllBytes(manifest + ".tmp");
        // A directory where the tensors temp file goes stops this save right after that first move.
        Directory.CreateDirectory(Checkpoint.TensorsPath(folder.Path) + ".tmp");

        Assert.ThrowsAny<SystemException>(() => Sample(step: 300).Save(folder.Path)); // IOException or UnauthorizedAccessException, by platform

        Assert.Equal(nextManifest, File.ReadAllBytes(manifest));
        Assert.False(File.Exists(manifest + ".tmp"));
        AssertSame(next, Checkpoint.Load(folder.Path));
    }

    /// <summary>Leaves <paramref name="folder"/> as a save of <paramref name="next"/> over <paramref name="previous"/> leaves it when it stops after its first rename.</summary>
    private static void CrashBetweenRenames(TempFolder folder, Checkpoint previous, Checkpoint next)
    {
        previous.Save(folder.Path);
        string elsewhere = folder.Sub("next");
        next.Save(elsewhere);
        File.Copy(Checkpoint.TensorsPath(elsewhere), Checkpoint.TensorsPath(folder.Path), overwrite: true);
        File.Copy(Checkpoint.ManifestPath(elsewhere), Checkpoint.ManifestPath(folder.Path) + ".tmp");
    }

    public static TheoryData<string, string> Corruptions => new()
    {
        { "tensors-changed", "does not belong to" },
        { "tensors-truncated", "outside the data section" },
        { "tensors-missing", "checkpoint.safetensors: no such file" },
        { "manifest-missing", "checkpoint.json: no such file" },
        { "manifest-not-json", "checkpoint.json: not a valid checkpoint manifest" },
        { "manifest-field-missing", "checkpoint.json: not a valid checkpoint manifest" },
        { "manifest-newer", "format version 3 is newer than this tool's (2)" },
        { "trainable-not-saved", "trainable parameter 'fc.weight' is not in" },
        { "epoch-edited", "checkpoint.json: the manifest does not match its SHA-256 (manifest_sha256): it was edited" },
        { "rng-state-emptied", "checkpoint.json: the manifest does not match its SHA-256" },
        { "manifest-unsigned", "checkpoint.json: the manifest carries no SHA-256 of itself (written by an older onnx-trainer, or edited)" },
        { "not-float32", "tensor 'head.bias' is F64; a checkpoint holds F32 tensors" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Load_CorruptCheckpoint_ThrowsNamingFileAndProblem(string corruption, string message)
    {
        using var folder = new TempFolder();
        Sample().Save(folder.Path);
        string tensors = Checkpoint.TensorsPath(folder.Path), manifest = Checkpoint.ManifestPath(folder.Path);
        switch (corruption)
        {
            case "tensors-changed": FlipLastByte(tensors); break;
            case "tensors-truncated": File.WriteAllBytes(tensors, File.ReadAllBytes(tensors)[..^4]); break;
            case "tensors-missing": File.Delete(tensors); break;
            case "manifest-missing": File.Delete(manifest); break;
            case "manifest-not-json": File.WriteAllText(manifest, "{\"step\": 1,"); break;
            case "manifest-field-missing": EditManifest(manifest, json => json.Remove("step")); break;
            case "manifest-newer": EditManifest(manifest, json => json["format_version"] = 3); break;
            case "epoch-edited": EditManifest(manifest, json => json["epoch"] = 1_000_000); break;
            case "rng-state-emptied": EditManifest(manifest, json => json["rng_state"] = new JsonArray()); break;
            case "manifest-unsigned": EditManifest(manifest, json => json.Remove("manifest_sha256")); break;
            case "trainable-not-saved": EditManifest(manifest, json => json["trainable_parameters"]!.AsArray().Add("fc.weight")); break;
            default:
                using (var stream = File.Create(tensors))
                    SafeTensors.Write(stream, new Dictionary<string, Tensor> { ["head.bias"] = Tensor.FromDoubles([2], [1, 2]) });
                EditManifest(manifest, json =>
                {
                    json["tensors_sha256"] = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(tensors)));
                    json["trainable_parameters"] = new JsonArray();
                });
                break;
        }

        var error = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Load(folder.Path));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Contains(folder.Path, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("trainable", "trainable parameter 'fc.weight' has no tensor in the checkpoint")]
    [InlineData("dtype", "tensor 'ids' is int64; a checkpoint holds float32 tensors")]
    [InlineData("lr", "the learning rate must be finite")]
    [InlineData("metric", "the best metric must be finite")]
    public void Save_ImpossibleCheckpoint_ThrowsAndWritesNothing(string mistake, string message)
    {
        using var folder = new TempFolder();
        var sample = Sample();
        var checkpoint = mistake switch
        {
            "trainable" => sample with { TrainableParameters = ["fc.weight"] },
            "dtype" => sample with { Tensors = new Dictionary<string, Tensor>(sample.Tensors) { ["ids"] = Tensor.Vector(1, 2) } },
            "lr" => sample with { LearningRate = double.NaN },
            _ => sample with { BestMetric = double.PositiveInfinity },
        };

        var error = Assert.Throws<ArgumentException>(() => checkpoint.Save(folder.Path));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void Require_ShapeDiffersFromModel_ThrowsNamingBothShapes()
    {
        var error = Assert.Throws<CheckpointFormatException>(() => Sample().Require("head.weight", [5, 3]));

        Assert.Equal("checkpoint tensor 'head.weight' has shape [2, 3], expected [5, 3]", error.Message);
    }

    private static void FlipLastByte(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0x40;
        File.WriteAllBytes(path, bytes);
    }

    private static void EditManifest(string path, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
