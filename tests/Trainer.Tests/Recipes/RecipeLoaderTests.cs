using OnnxTrainer.Artifacts;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Recipes;
using Xunit;

namespace OnnxTrainer.Tests.Recipes;

public class RecipeLoaderTests
{
    private const string Full = """
        name: full-run
        backbone:
          path: ../models/net.onnx
          cut: head
        input:
          size: [160, 128]
          resize: 180
          channels: RGB
          mean: [0.5, 0.4, 0.3]
          std: [0.2, 0.25, 0.3]
        head:
          hidden: [256, 64]
          dropout: 0.3
        strategy: fine-tune
        fine_tune_last: 2
        data:
          train:
            kind: idx
            images: idx/train-images.gz
            labels: idx/train-labels.gz
            classes: [5, 7]
            class_names: [Sandal, Sneaker]
          val_split: 0.25
          augment:
            random_resized_crop: { scale: [0.5, 0.9], ratio: [0.8, 1.25] }
            horizontal_flip: 0.3
            rotation: 12.5
            color_jitter: { brightness: 0.2, contrast: 0.1, saturation: 0.05 }
          cache_mb: 256
        optimizer:
          kind: adamw
          learning_rate: 0.002
          weight_decay: 0.05
          betas: [0.85, 0.99]
          eps: 1e-6
          backbone_lr_scale: 0.1
          lr_scale:
            - { pattern: "layer4.*", scale: 0.5 }
        schedule:
          kind: step
          warmup_epochs: 1.5
          step_size: 3
          gamma: 0.5
        epochs: 12
        batch_size: 48
        label_smoothing: 0.1
        class_weights: [1.0, 2.5]
        early_stopping: { metric: val_accuracy, patience: 4 }
        seed: 7
        batch_norm: adabn
        """;

    [Fact]
    public void Parse_EveryFieldSet_ReadsEveryValue()
    {
        var recipe = RecipeSamples.Parse(Full);

        Assert.Equal("full-run", recipe.Name);
        Assert.Equal(Path.GetFullPath("/models/net.onnx"), recipe.Backbone.Path);
        Assert.Equal(BackboneCut.Head, recipe.Backbone.Cut);
        Assert.Equal(new InputSpec(160, 128, 180, ChannelFormat.Rgb, [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]) with { Mean = recipe.Input.Mean, Std = recipe.Input.Std }, recipe.Input);
        Assert.Equal([0.5, 0.4, 0.3], recipe.Input.Mean!);
        Assert.Equal([0.2, 0.25, 0.3], recipe.Input.Std!);
        Assert.Equal([256, 64], recipe.Head.Hidden);
        Assert.Equal(0.3, recipe.Head.Dropout);
        Assert.Equal(TransferStrategy.FineTune, recipe.Strategy);
        Assert.Equal(2, recipe.FineTuneLast);
        Assert.Null(recipe.Trainable);
        Assert.Empty(recipe.Stages);

        var train = recipe.Data.Train;
        Assert.Equal(DataSourceKind.Idx, train.Kind);
        Assert.Null(train.Path);
        Assert.Equal("/base/idx/train-images.gz", train.Images);
        Assert.Equal("/base/idx/train-labels.gz", train.Labels);
        Assert.Equal([5, 7], train.LabelSubset!);
        Assert.Equal(["Sandal", "Sneaker"], train.ClassNames!);
        Assert.Null(recipe.Data.Val);
        Assert.Equal(0.25, recipe.Data.ValSplit);
        Assert.Equal(new RandomResizedCropSpec(0.5, 0.9, 0.8, 1.25), recipe.Data.Augment.RandomResizedCrop);
        Assert.Equal(0.3, recipe.Data.Augment.HorizontalFlip);
        Assert.Equal(12.5, recipe.Data.Augment.Rotation);
        Assert.Equal(new ColorJitterSpec(0.2, 0.1, 0.05), recipe.Data.Augment.ColorJitter);
        Assert.Equal(256, recipe.Data.CacheMb);

        var optimizer = recipe.Optimizer;
        Assert.Equal((OptimizerKind.AdamW, 0.002, 0.05, 0.85, 0.99, 1e-6, 0.1), (optimizer.Kind, optimizer.LearningRate, optimizer.WeightDecay, optimizer.Beta1, optimizer.Beta2, optimizer.Eps, optimizer.BackboneLrScale));
        Assert.Equal([new LearningRateScaleRule("layer4.*", 0.5)], optimizer.LrScale);
        Assert.Equal(new ScheduleSpec(ScheduleKind.Step, 1.5, 3, 0.5, 0), recipe.Schedule);
        Assert.Equal((12, 48, 0.1, 7, BatchNormPolicy.AdaBn), (recipe.Epochs, recipe.BatchSize, recipe.LabelSmoothing, recipe.Seed, recipe.BatchNorm));
        Assert.Equal(ClassWeightsKind.Explicit, recipe.ClassWeights.Kind);
        Assert.Equal([1.0, 2.5], recipe.ClassWeights.Weights!);
        Assert.Equal(new EarlyStoppingSpec(EarlyStoppingMetric.ValAccuracy, 4), recipe.EarlyStopping);
    }

    [Fact]
    public void Parse_MinimalRecipe_AppliesDefaults()
    {
        var recipe = RecipeSamples.Parse(RecipeSamples.Minimal);

        Assert.Equal("recipe", recipe.Name);
        Assert.Equal(BackboneCut.Head, recipe.Backbone.Cut);
        Assert.Equal(new InputSpec(null, null, null, null, null, null), recipe.Input);
        Assert.Empty(recipe.Head.Hidden);
        Assert.Equal(0, recipe.Head.Dropout);
        Assert.Equal(TransferStrategy.FeatureExtraction, recipe.Strategy);
        Assert.Equal(new DataSourceSpec(DataSourceKind.ImageFolder, "/base/images", null, null, null, null, null), recipe.Data.Train);
        Assert.False(recipe.Data.HasValidation);
        Assert.Same(AugmentSpec.None, recipe.Data.Augment);
        Assert.Equal(1024, recipe.Data.CacheMb);
        Assert.Equal(new OptimizerSpec(OptimizerKind.Sgd, 0.01, 0.9, false, 0, 0.9, 0.999, 1e-8, 1, []) with { LrScale = recipe.Optimizer.LrScale }, recipe.Optimizer);
        Assert.Equal(new ScheduleSpec(ScheduleKind.Constant, 0, 0, 0.1, 0), recipe.Schedule);
        Assert.Equal((10, 32, 0.0, 0, BatchNormPolicy.Frozen), (recipe.Epochs, recipe.BatchSize, recipe.LabelSmoothing, recipe.Seed, recipe.BatchNorm));
        Assert.Same(ClassWeightsSpec.None, recipe.ClassWeights);
        Assert.Null(recipe.EarlyStopping);
    }

    [Fact]
    public void Parse_FromScratchWithoutBatchNorm_TrainsBatchNorm()
    {
        var recipe = RecipeSamples.Parse(RecipeSamples.Minimal + "strategy: from-scratch\n");

        Assert.Equal(BatchNormPolicy.Train, recipe.BatchNorm);
    }

    [Fact]
    public void Parse_AdamWWithoutRates_UsesAdamWDefaults()
    {
        var optimizer = RecipeSamples.Parse(RecipeSamples.Minimal + "optimizer: { kind: adamw }\n").Optimizer;

        Assert.Equal((0.001, 0.01), (optimizer.LearningRate, optimizer.WeightDecay));
    }

    [Theory]
    [InlineData("", HeadPooling.Average)]
    [InlineData("head: { pooling: flatten }\n", HeadPooling.Flatten)]
    public void Parse_HeadPooling_DefaultsToAverage(string line, HeadPooling expected) =>
        Assert.Equal(expected, RecipeSamples.Parse(RecipeSamples.Minimal + line).Head.Pooling);

    [Theory]
    [InlineData("cut: 4", null, 4)]
    [InlineData("cut: head", null, null)]
    [InlineData("cut: /layer3/Relu_output_0", "/layer3/Relu_output_0", null)]
    [InlineData("cut: \"12\"", "12", null)]
    public void Parse_CutForms_ReadAsIndexTensorOrHead(string cutLine, string? tensor, int? index)
    {
        var recipe = RecipeSamples.Parse($"backbone:\n  path: b.onnx\n  {cutLine}\ndata: {{ train: {{ path: images }} }}\n");

        Assert.Equal(new BackboneCut(tensor, index), recipe.Backbone.Cut);
    }

    [Fact]
    public void Parse_Stages_ReadInOrderAndSumTheirEpochs()
    {
        var recipe = RecipeSamples.Parse(RecipeSamples.Minimal + """
            strategy: fine-tune
            stages:
              - { unfreeze_last: 0, epochs: 2, learning_rate: 0.01 }
              - { trainable: ["layer4.*", "layer3.*"], epochs: 3 }
            """);

        Assert.Equal(5, recipe.Epochs);
        Assert.Equal(new StageSpec(null, 0, 2, 0.01), recipe.Stages[0]);
        Assert.Equal(["layer4.*", "layer3.*"], recipe.Stages[1].Trainable!);
        Assert.Equal((null, 3, null), (recipe.Stages[1].UnfreezeLast, recipe.Stages[1].Epochs, recipe.Stages[1].LearningRate));
    }

    [Theory]
    [InlineData("horizontal_flip: true", 0.5)]
    [InlineData("horizontal_flip: false", 0.0)]
    [InlineData("horizontal_flip: 0.25", 0.25)]
    public void Parse_HorizontalFlip_BoolOrProbability(string line, double probability)
    {
        var augment = RecipeSamples.Parse(RecipeSamples.Minimal.Replace("{ path: images }", $"{{ path: images }}, augment: {{ {line} }}", StringComparison.Ordinal)).Data.Augment;

        Assert.Equal(probability, augment.HorizontalFlip);
    }

    [Fact]
    public void Parse_RandomResizedCropTrue_UsesTorchvisionDefaults()
    {
        var augment = RecipeSamples.Parse(RecipeSamples.Minimal.Replace("{ path: images }", "{ path: images }, augment: { random_resized_crop: true }", StringComparison.Ordinal)).Data.Augment;

        Assert.Equal(new RandomResizedCropSpec(0.08, 1, 0.75, 4.0 / 3), augment.RandomResizedCrop);
        Assert.True(augment.IsRandom);
        Assert.False(AugmentSpec.None.IsRandom);
    }

    [Fact]
    public void Parse_ImageFolderWithClassSubsetAndSeparateVal_ReadsBoth()
    {
        var data = RecipeSamples.Parse("""
            backbone: { path: b.onnx }
            data:
              train: { kind: csv, path: lists/train.csv, classes: [cat, dog] }
              val: { path: /data/val }
            class_weights: balanced
            """);

        Assert.Equal(new DataSourceSpec(DataSourceKind.Csv, "/base/lists/train.csv", null, null, data.Data.Train.ClassSubset, null, null), data.Data.Train);
        Assert.Equal(["cat", "dog"], data.Data.Train.ClassSubset!);
        Assert.Equal("/data/val", data.Data.Val!.Path);
        Assert.True(data.Data.HasValidation);
        Assert.Equal(ClassWeightsKind.Balanced, data.ClassWeights.Kind);
    }

    [Theory]
    [InlineData("cosine", "min_lr: 0.0001", 0.0001)]
    [InlineData("constant", "warmup_epochs: 2", 0.0)]
    public void Parse_ScheduleKinds_ReadTheirOwnOptions(string kind, string option, double minLr)
    {
        var schedule = RecipeSamples.Parse(RecipeSamples.Minimal + $"schedule: {{ kind: {kind}, {option} }}\n").Schedule;

        Assert.Equal(minLr, schedule.MinLr);
    }

    [Fact]
    public void Parse_SgdOptions_ReadMomentumAndNesterov()
    {
        var optimizer = RecipeSamples.Parse(RecipeSamples.Minimal + "optimizer: { kind: sgd, momentum: 0.8, nesterov: true }\n").Optimizer;

        Assert.Equal((0.8, true), (optimizer.Momentum, optimizer.Nesterov));
    }

    [Fact]
    public void Parse_NullValue_CountsAsUnset()
    {
        var recipe = RecipeSamples.Parse(RecipeSamples.Minimal + "epochs: ~\nhead:\n");

        Assert.Equal(10, recipe.Epochs);
        Assert.Empty(recipe.Head.Hidden);
    }

    [Fact]
    public void Parse_CaffeStyleInputAndPreprocessGraph_ReadsThem()
    {
        var recipe = RecipeSamples.Parse("""
            backbone: { path: ../models/r.onnx, preprocess: ../models/prep.onnx }
            input: { channels: BGR, range: 255, layout: NHWC, mean: [103.06, 115.90, 123.15], std: [1, 1, 1] }
            data: { train: { path: images } }
            """);

        Assert.Equal(Path.GetFullPath("/models/prep.onnx"), recipe.Backbone.Preprocess);
        Assert.Equal((ChannelFormat.Bgr, 255, TensorLayout.Nhwc), (recipe.Input.Channels, recipe.Input.Range, recipe.Input.Layout));
        Assert.Equal([103.06, 115.90, 123.15], recipe.Input.Mean!);
    }

    [Fact]
    public void InputSpec_DefaultsOnTheRangeAndInChannelOrder_ImageNetScaled()
    {
        var input = new InputSpec(null, null, null, null, null, null);

        Assert.Equal([0.406 * 255, 0.456 * 255, 0.485 * 255], input.MeanFor(ChannelFormat.Bgr, 255));
        Assert.Equal([0.229 * 255, 0.224 * 255, 0.225 * 255], input.StdFor(ChannelFormat.Rgb, 255));
    }

    [Fact]
    public void InputSpec_Defaults_TorchvisionResizeAndImageNetStatistics()
    {
        var input = new InputSpec(null, null, null, null, null, null);

        Assert.Equal(256, input.ResizeFor(224, 224));
        Assert.Equal([0.485, 0.456, 0.406], input.MeanFor(ChannelFormat.Rgb));
        Assert.Equal([0.449], input.MeanFor(ChannelFormat.L));
        Assert.Equal([0.226], input.StdFor(ChannelFormat.L));
    }

    [Fact]
    public void Hash_ReorderedAndCommented_Unchanged()
    {
        var a = RecipeSamples.Parse("epochs: 3\n" + RecipeSamples.Minimal);
        var b = RecipeSamples.Parse("# a comment\n" + RecipeSamples.Minimal + "epochs:   3   # trailing\n");

        Assert.Equal(a.CanonicalYaml, b.CanonicalYaml);
        Assert.Equal(a.Hash, b.Hash);
        Assert.Matches("^[0-9a-f]{64}$", a.Hash);
    }

    [Fact]
    public void Hash_ValueChangedByOverride_Changes()
    {
        var a = RecipeSamples.Parse(RecipeSamples.Minimal + "epochs: 3\n");
        var b = RecipeSamples.Parse(RecipeSamples.Minimal + "epochs: 3\n", "epochs=4");
        var c = RecipeSamples.Parse(RecipeSamples.Minimal + "epochs: 4\n");

        Assert.NotEqual(a.Hash, b.Hash);
        Assert.Equal(c.Hash, b.Hash);
    }

    [Fact]
    public void CanonicalYaml_Reloaded_SameRecipeHash()
    {
        var original = RecipeSamples.Parse(Full);

        var reloaded = RecipeSamples.Parse(original.CanonicalYaml);

        Assert.Equal(original.Hash, reloaded.Hash);
        Assert.Equal(original.Optimizer.LrScale, reloaded.Optimizer.LrScale);
    }

    [Fact]
    public void Locate_WrittenAndDefaultedPaths_PointIntoTheFile()
    {
        var recipe = RecipeSamples.Parse(RecipeSamples.Minimal + "optimizer:\n  kind: sgd\n");

        Assert.Equal(new RecipeLocation("recipe.yaml", 4, 9), recipe.Locate("optimizer.kind"));
        Assert.Equal(new RecipeLocation("recipe.yaml", 4, 3), recipe.Locate("optimizer.learning_rate"));
        Assert.Equal("recipe.yaml:4:3: optimizer.learning_rate is too high for this backbone", recipe.Error("optimizer.learning_rate", "optimizer.learning_rate is too high for this backbone").Message);
    }

    [Fact]
    public void Load_FileWithMistake_ErrorNamesThePathAsGiven()
    {
        var path = Path.Combine(Path.GetTempPath(), $"recipe-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, RecipeSamples.Minimal + "optimizer:\n  kind: sgd\n  learning_rate: -0.1\n");
        try
        {
            var error = Assert.Throws<RecipeException>(() => RecipeLoader.Load(path));

            Assert.Equal($"{path}:5:18: optimizer.learning_rate must be > 0 (got -0.1)", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_MissingFile_RecipeExceptionNamingIt()
    {
        var error = Assert.Throws<RecipeException>(() => RecipeLoader.Load("/nonexistent/recipe.yaml"));

        Assert.StartsWith("/nonexistent/recipe.yaml", error.Message, StringComparison.Ordinal);
    }
}
