using OnnxTrainer.Inference;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Ir.Surgery;
using OnnxTrainer.Onnx;
using OnnxTrainer.Recipes;
using OnnxTrainer.Tests.Data;
using OnnxTrainer.Tests.Fixtures;
using OnnxTrainer.Training;
using Xunit;

namespace OnnxTrainer.Tests.Training;

/// <summary>
/// Backbones that read something other than torchvision's NCHW RGB 0..1 input train, export and serve from a recipe:
/// a Keras/tf2onnx-style NHWC model against its NCHW twin (same weights), and a preprocessing graph merged in front of
/// a backbone (RGB to BGR, minus Caffe's means) against the same backbone fed Caffe-style input by the data pipeline.
/// Each pair must give the same logits on the same images, through <c>train</c>, <c>model.onnx</c> and its metadata.
/// Likewise a backbone exported at an old opset (upgraded on load) against its opset-17 export.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class BackboneInputConventionTests : IDisposable
{
    private const string CaffeBgrMean = "[103.06, 115.90, 123.15]";
    private readonly TemporaryDirectory _tree = new();
    private readonly List<string> _images = [];

    public BackboneInputConventionTests()
    {
        // Colored, textured pictures (channel order matters), three classes.
        for (int i = 0; i < 18; i++)
            _images.Add(_tree.Write($"images/c{i % 3}/{i}.png", TemporaryDirectory.Picture(i, width: 44, height: 38)));
    }

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void NhwcBackbone_TrainsExportsAndServes_LikeItsNchwTwin()
    {
        var nhwc = Train("nhwc", $"path: {GeneratedFixtures.ModelPath("nhwc_small")}", "");
        var nchw = Train("nchw", $"path: {GeneratedFixtures.ModelPath("nhwc_small_nchw")}", "");

        using var served = ImageClassifier.Load(nhwc);
        Assert.Equal(TensorLayout.Nhwc, served.Preprocessing.Layout);
        Assert.Equal([-1, 32, 32, 3], ModelReader.Load(nhwc).Graph.Inputs[0].Type!.Shape!.Select(d => d.Value ?? -1));
        AssertSameLogits(nhwc, nchw);
        using var twin = ImageClassifier.Load(nchw);
        var fromNhwc = served.ClassifyBatch(_images);
        var fromNchw = twin.ClassifyBatch(_images);
        for (int i = 0; i < _images.Count; i++)
            Assert.Equal(fromNchw[i][0].Probability, fromNhwc[i][0].Probability, 1e-4f);
    }

    [Fact]
    public void OldOpsetBackbone_TrainsExportsAndServes_LikeItsOpset17Twin()
    {
        var old = Train("opset9", $"path: {GeneratedFixtures.ModelPath("resnet_small_opset9")}", "");
        var current = Train("opset17", $"path: {GeneratedFixtures.ModelPath("resnet_small")}", "");

        Assert.Equal(OnnxTrainer.Ir.Upgrade.OpsetUpgrade.WorkingOpset, ModelReader.Load(old).OpsetVersion);
        AssertSameLogits(old, current);
    }

    [Fact]
    public void PreprocessGraph_MergedInFront_EqualsCaffeStyleInputOfTheDataPipeline()
    {
        string preprocess = GeneratedFixtures.ModelPath("preprocess_bgr");
        var merged = Train("merged", $"path: {GeneratedFixtures.ModelPath("resnet_small")}\n  preprocess: {preprocess}",
            "input: { channels: RGB, range: 255, mean: [0, 0, 0], std: [1, 1, 1] }");
        var caffe = Train("caffe", $"path: {GeneratedFixtures.ModelPath("resnet_small")}",
            $"input: {{ channels: BGR, range: 255, mean: {CaffeBgrMean}, std: [1, 1, 1] }}");

        var exported = ModelReader.Load(merged);
        var meanImage = exported.Graph[PreprocessingGraph.Prefix + "MeanImage"];
        Assert.True(meanImage.Initializer!.Data.Span.SequenceEqual(ModelReader.Load(preprocess).Graph["MeanImage"].Initializer!.Data.Span));
        Assert.Contains(exported.Graph.Nodes, n => n.OpType == "Split" && n.Name.StartsWith(PreprocessingGraph.Prefix, StringComparison.Ordinal));
        Assert.Equal("RGB", exported.GetMetadata("channels")); // what the merged graph reads; it reorders to BGR itself
        Assert.Equal("255", exported.GetMetadata("range"));
        AssertSameLogits(merged, caffe);
    }

    [Fact]
    public void PreprocessGraph_OtherOpsetThanBackbone_BothUpgradedAndMerged()
    {
        var recipe = Recipe("mixed", $"path: {GeneratedFixtures.ModelPath("resnet_small_opset9")}\n  preprocess: {GeneratedFixtures.ModelPath("preprocess_bgr")}",
            "input: { channels: RGB, range: 255, mean: [0, 0, 0], std: [1, 1, 1] }");

        var model = RunSetup.Prepare(recipe).Assembly.Model;

        Assert.Equal(OnnxTrainer.Ir.Upgrade.OpsetUpgrade.WorkingOpset, model.OpsetVersion);
        Assert.Contains(model.Graph.Nodes, n => n.Name.StartsWith(PreprocessingGraph.Prefix, StringComparison.Ordinal));
    }

    [Fact]
    public void PreprocessGraph_FineTuneAll_StaysFrozen()
    {
        var recipe = Recipe("frozen", $"path: {GeneratedFixtures.ModelPath("resnet_small")}\n  preprocess: {GeneratedFixtures.ModelPath("preprocess_bgr")}",
            "input: { channels: RGB, range: 255, mean: [0, 0, 0], std: [1, 1, 1] }\nstrategy: fine-tune\ntrainable: ['*']");

        var trainable = RunSetup.Prepare(recipe).Plan.Stages.Single().Trainable;

        Assert.Contains("conv1.weight", trainable);
        Assert.DoesNotContain(trainable, name => name.StartsWith(PreprocessingGraph.Prefix, StringComparison.Ordinal));
    }

    [Fact]
    public void NhwcBackbone_RecipeSaysNchw_ErrorNamesTheLayout()
    {
        var recipe = Recipe("wrong", $"path: {GeneratedFixtures.ModelPath("nhwc_small")}", "input: { layout: NCHW }");

        var error = Assert.Throws<RecipeException>(() => RunSetup.Prepare(recipe));

        Assert.Contains("input.layout: the backbone's input", error.Message, StringComparison.Ordinal);
        Assert.Contains("is NHWC, the recipe says NCHW", error.Message, StringComparison.Ordinal);
    }

    private Recipe Recipe(string name, string backbone, string input)
    {
        var path = _tree.Write($"{name}.yaml", System.Text.Encoding.UTF8.GetBytes($"""
            name: {name}
            backbone:
              {backbone}
            {input}
            data:
              train: {"{"} kind: image-folder, path: images {"}"}
            optimizer: {"{"} kind: adamw, learning_rate: 0.01 {"}"}
            epochs: 2
            batch_size: 6
            seed: 1
            """));
        return RecipeLoader.Load(path, []);
    }

    /// <summary>Runs <c>onnx-trainer train</c> and returns the exported model.onnx.</summary>
    private string Train(string name, string backbone, string input)
    {
        Recipe(name, backbone, input);
        var run = Path.Combine(_tree.Root, "runs", name);
        var (code, output, error) = ConsoleCapture.Run("train", Path.Combine(_tree.Root, $"{name}.yaml"), "--out", run, "--threads", "1");
        Assert.True(code == 0, $"train {name} exited {code}: {output}{error}");
        return Path.Combine(run, "model.onnx");
    }

    /// <summary>Each model's logits on every image, its input made by its own metadata's preprocessing, agree.</summary>
    private void AssertSameLogits(string modelPath, string twinPath)
    {
        var (logits, twinLogits) = (Logits(modelPath), Logits(twinPath));
        double scale = twinLogits.Max(Math.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < logits.Length; i++)
            Assert.True(Math.Abs(logits[i] - twinLogits[i]) <= 1e-4 * scale, $"logit {i}: {logits[i]} vs {twinLogits[i]} (scale {scale})");
    }

    private float[] Logits(string modelPath)
    {
        var spec = PreprocessingSpec.FromMetadata(ModelReader.Load(modelPath).Metadata.ToDictionary(kv => kv.Key, kv => kv.Value));
        var preprocessor = new ImagePreprocessor(spec);
        var batch = new float[_images.Count * spec.TensorLength];
        for (int i = 0; i < _images.Count; i++)
            preprocessor.Preprocess(ImageDecoder.DecodeFile(_images[i], spec.Channels), batch.AsSpan(i * spec.TensorLength, spec.TensorLength));
        return OrtRunner.Run(modelPath, "input", batch, spec.TensorShape(_images.Count));
    }
}
