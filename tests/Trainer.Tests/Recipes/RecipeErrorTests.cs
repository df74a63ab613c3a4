using OnnxTrainer.Recipes;
using Xunit;

namespace OnnxTrainer.Tests.Recipes;

public class RecipeErrorTests
{
    private const string M = RecipeSamples.Minimal;
    private const string Backbone = "backbone: { path: b.onnx }\n";

    public static TheoryData<string, string, string> Mistakes => new()
    {
        // unknown keys, with and without a close match
        { M + "epoch: 3", "3:1", "unknown key 'epoch'; did you mean 'epochs'?" },
        { M + "optimizer:\n  learning_rte: 0.1", "4:3", "unknown key 'optimizer.learning_rte'; did you mean 'learning_rate'?" },
        { M + "optimizer:\n  zzz: 1", "4:3", "unknown key 'optimizer.zzz' (expected one of: kind, learning_rate, momentum" },
        { Backbone + "data:\n  train: { path: x, clases: [a] }", "3:21", "unknown key 'data.train.clases'; did you mean 'classes'?" },
        { M + "strategy: fine-tune\nstages:\n  - { epochs: 1, unfreeze: 2 }", "5:18", "unknown key 'stages.0.unfreeze'; did you mean 'unfreeze_last'?" },
        // wrong types
        { M + "epochs: three", "3:9", "epochs must be an integer (got three)" },
        { M + "epochs: \"3\"", "3:9", "epochs must be an integer (got 3)" },
        { M + "epochs: 2.5", "3:9", "epochs must be an integer (got 2.5)" },
        { M + "label_smoothing: lots", "3:18", "label_smoothing must be a number (got lots)" },
        { M + "optimizer: sgd", "3:12", "optimizer must be a mapping of keys (got sgd)" },
        { M + "head: { hidden: 128 }", "3:17", "head.hidden must be a list (got 128)" },
        { M + "optimizer: { kind: sgd, nesterov: yes }", "3:35", "optimizer.nesterov must be true or false (got yes)" },
        { M + "name: [a, b]", "3:7", "name must be a non-empty string (got a list)" },
        // impossible values
        { M + "optimizer:\n  learning_rate: -0.1", "4:18", "optimizer.learning_rate must be > 0 (got -0.1)" },
        { M + "batch_size: 0", "3:13", "batch_size must be at least 1 (got 0)" },
        { M + "epochs: 0", "3:9", "epochs must be at least 1 (got 0)" },
        { M + "label_smoothing: 1", "3:18", "label_smoothing must be in [0, 1) (got 1)" },
        { M + "input: { size: [224] }", "3:16", "input.size must be two integers [height, width] (got a list)" },
        { M + "input:\n  size: [224, 22.5]", "4:9", "input.size must be two integers [height, width]" },
        { M + "input:\n  size: [0, 10]", "4:9", "input.size must be positive" },
        { M + "input:\n  size: [224, 224]\n  resize: 200", "5:11", "input.resize must be at least the smaller side of input.size (224)" },
        { M + "input:\n  mean: [123.7, 116.3, 103.5]", "4:9", "input.mean must be on the 0..1 pixel scale" },
        { M + "input:\n  channels: L\n  mean: [0.5, 0.5, 0.5]", "5:9", "input.mean must have 1 value for channels L" },
        { M + "input:\n  channels: rgb", "4:13", "input.channels must be one of RGB, BGR, L (got rgb); did you mean RGB?" },
        { M + "input:\n  range: 100", "4:10", "input.range must be 1 or 255 (the pixel value of white) (got 100)" },
        { M + "input:\n  layout: CHW", "4:11", "input.layout must be one of NCHW, NHWC (got CHW)" },
        { M + "input:\n  range: 255\n  mean: [0.485, 0.456, 0.406]", "5:9", "input.mean must be on the 0..255 pixel scale of input.range: 255" },
        { M + "input:\n  range: 255\n  std: [1, 300, 1]", "5:8", "input.std must be on the 0..255 pixel scale" },
        { M + "input:\n  mean: [103.06, 115.90, 123.15]", "4:9", "for 0..255 values set input.range: 255" },
        { "backbone:\n  architecture: { name: resnet }\n  preprocess: p.onnx\ndata: { train: { path: i } }", "3:15", "backbone.preprocess goes in front of a backbone file: set backbone.path" },
        { M + "input:\n  std: [0.2, 0, 0.2]", "4:8", "input.std must be positive" },
        { M + "head:\n  hidden: [128, 0]", "4:17", "head.hidden.1 must be a layer width of 1 to 65,536 (got 0)" },
        { M + "head:\n  dropout: 1", "4:12", "head.dropout must be in [0, 1) (got 1)" },
        // sizes bounded before anything is allocated (issue 22, item 4)
        { M + "head:\n  hidden: [2000000000]", "4:12", "head.hidden.0 must be a layer width of 1 to 65,536 (got 2000000000)" },
        { M + "head:\n  hidden: [" + string.Join(", ", Enumerable.Repeat(8, 17)) + "]", "4:11", "head.hidden must list at most 16 hidden layers" },
        { M + "input:\n  size: [100000, 100000]", "4:9", "input.size must be at most 8,192 pixels a side" },
        { M + $"batch_size: {int.MaxValue}", "3:13", $"batch_size must be at most 65,536 (got {int.MaxValue})" },
        { "backbone:\n  architecture: { name: resnet, width: 100000 }\ndata: { train: { path: i } }", "2:40", "backbone.architecture.width must be 1 to 4,096 channels" },
        { "backbone:\n  architecture: { name: resnet, blocks: [2, 1000] }\ndata: { train: { path: i } }", "2:41", "backbone.architecture.blocks must be a list of block counts >= 1 per stage (at most 64" },
        { "backbone:\n  architecture: { name: mobilenet_v2, width_multiplier: 1000 }\ndata: { train: { path: i } }", "2:57", "backbone.architecture.width_multiplier must be > 0 and at most 16" },
        { M + "name: my run/1", "3:7", "name must be a folder name" },
        { M + "seed: -1", "3:7", "seed must be a non-negative integer (got -1)" },
        { M + "strategy: from-scratch\nbatch_norm: frozen", "4:13", "batch_norm must be train with strategy from-scratch" },
        { M + "batch_norm: adaBN", "3:13", "batch_norm must be one of frozen, train, adabn (got adaBN); did you mean adabn?" },
        { M + "strategy: fine_tune", "3:11", "did you mean fine-tune?" },
        { "backbone:\n  path: b.onnx\n  cut: -1\ndata: { train: { path: i } }", "3:8", "backbone.cut must be a cut-point index >= 0" },
        // missing required fields
        { "data: { train: { path: images } }", "1:1", "backbone is required" },
        { Backbone + "epochs: 3", "1:1", "data is required" },
        { "backbone: {}\ndata: { train: { path: i } }", "1:11", "backbone needs exactly one of path (an ONNX file) and architecture" },
        { Backbone + "data:\n  train: { kind: csv }", "3:10", "data.train.path is required (the CSV manifest)" },
        { "backbone:\n  path: b.onnx\n  architecture: { name: resnet }\ndata: { train: { path: i } }", "3:17", "backbone needs exactly one of path (an ONNX file) and architecture" },
        { "backbone:\n  architecture: { name: vgg }\ndata: { train: { path: i } }", "2:25", "backbone.architecture.name must be one of resnet, mobilenet_v2" },
        { "backbone:\n  architecture: { name: resnet, blocks: [2, 0] }\ndata: { train: { path: i } }", "2:41", "backbone.architecture.blocks must be a list of block counts >= 1 per stage" },
        { Backbone + "data:\n  train:\n    kind: idx\n    images: i.gz", "4:5", "data.train.labels is required for kind idx" },
        // data
        { Backbone + "data:\n  train: { path: i }\n  val_split: 1.0", "4:14", "data.val_split must be a fraction between 0 and 1 (exclusive) (got 1.0)" },
        { Backbone + "data:\n  train: { path: i }\n  val_split: 0", "4:14", "data.val_split must be a fraction" },
        { Backbone + "data:\n  train: { path: i }\n  val: { path: v }\n  val_split: 0.2", "5:14", "set either data.val or data.val_split, not both" },
        { Backbone + "data:\n  train: { kind: idx, images: i, labels: l, path: p }", "3:51", "data.train.path does not apply to kind idx" },
        { Backbone + "data:\n  train: { path: p, images: i }", "3:29", "data.train.images applies only to kind idx (kind is image-folder)" },
        { Backbone + "data:\n  train: { kind: idx, images: i, labels: l, classes: [1, 2], class_names: [a] }", "3:75", "data.train.class_names has 1 names for 2 classes" },
        { Backbone + "data:\n  train: { path: p, classes: [cat, cat] }", "3:36", "data.train.classes.1 repeats cat" },
        { Backbone + "data:\n  train: { kind: idx, images: i, labels: l, classes: [one] }", "3:55", "data.train.classes.0 must be an integer (got one)" },
        { Backbone + "data:\n  train: { kind: folder, path: p }", "3:18", "data.train.kind must be one of image-folder, csv, idx (got folder)" },
        { Backbone + "data:\n  train: { path: p }\n  cache_mb: -5", "4:13", "data.cache_mb must be >= 0" },
        { M + "augment: {}", "3:1", "unknown key 'augment'" },
        { Backbone + "data:\n  train: { path: p }\n  augment:\n    horizontal_flip: 2", "5:22", "data.augment.horizontal_flip must be true, false or a probability in [0, 1] (got 2)" },
        { Backbone + "data:\n  train: { path: p }\n  augment:\n    rotation: 270", "5:15", "data.augment.rotation must be a maximum angle in degrees in [0, 180] (got 270)" },
        { Backbone + "data:\n  train: { path: p }\n  augment:\n    random_resized_crop: { scale: [0.5, 1.5] }", "5:35", "data.augment.random_resized_crop.scale must be area fractions in (0, 1]" },
        { Backbone + "data:\n  train: { path: p }\n  augment:\n    random_resized_crop: { ratio: [2, 1] }", "5:35", "must be [low, high] with low <= high" },
        { Backbone + "data:\n  train: { path: p }\n  augment:\n    color_jitter: { brightness: -0.1 }", "5:33", "data.augment.color_jitter.brightness must be >= 0" },
        // strategy, trainable, stages
        { M + "strategy: truncate", "3:11", "strategy truncate needs backbone.cut set to a tensor name or a cut-point index" },
        { "backbone:\n  path: b.onnx\n  cut: head\ndata: { train: { path: i } }\nstrategy: truncate", "3:8", "strategy truncate needs backbone.cut" },
        { M + "fine_tune_last: 2", "3:17", "fine_tune_last applies only to strategy fine-tune (strategy is feature-extraction)" },
        { M + "strategy: fine-tune\nfine_tune_last: 0", "4:17", "fine_tune_last must be at least 1 (got 0)" },
        { M + "strategy: fine-tune\ntrainable: [\"layer4.*\"]\nfine_tune_last: 2", "5:17", "set either trainable or fine_tune_last, not both" },
        { M + "trainable: []", "3:12", "trainable must list at least one item" },
        { M + "stages:\n  - { unfreeze_last: 1, epochs: 2 }", "4:3", "stages apply only to strategy fine-tune (strategy is feature-extraction)" },
        { M + "strategy: fine-tune\nstages:\n  - { unfreeze_last: 1, epochs: 0 }\n  - { trainable: [\"*\"], epochs: 0 }", "5:3", "the stages' epochs add up to 0" },
        { M + "strategy: fine-tune\nepochs: 5\nstages:\n  - { unfreeze_last: 1, epochs: 2 }", "4:9", "epochs cannot be set with stages" },
        { M + "strategy: fine-tune\ntrainable: [\"*\"]\nstages:\n  - { unfreeze_last: 1, epochs: 2 }", "4:12", "trainable cannot be combined with stages" },
        { M + "strategy: fine-tune\nstages:\n  - { epochs: 2 }", "5:5", "stages.0 needs trainable (patterns) or unfreeze_last" },
        { M + "strategy: fine-tune\nstages:\n  - { trainable: [a], unfreeze_last: 1, epochs: 2 }", "5:38", "stages.0: set either trainable or unfreeze_last, not both" },
        { M + "strategy: fine-tune\nstages:\n  - { unfreeze_last: 1 }", "5:5", "stages.0.epochs is required" },
        { M + "strategy: fine-tune\nstages:\n  - { unfreeze_last: 1, epochs: 1, learning_rate: 0 }", "5:51", "stages.0.learning_rate must be > 0 (got 0)" },
        { M + "strategy: fine-tune\nstages: []", "4:9", "stages must list at least one stage" },
        // optimizer and schedule
        { M + "optimizer:\n  kind: adamw\n  momentum: 0.9", "5:13", "optimizer.momentum applies only to kind sgd (kind is adamw)" },
        { M + "optimizer:\n  betas: [0.9, 0.99]", "4:10", "optimizer.betas applies only to kind adamw (kind is sgd)" },
        { M + "optimizer:\n  momentum: 0\n  nesterov: true", "5:13", "optimizer.nesterov needs optimizer.momentum > 0" },
        { M + "optimizer:\n  momentum: 1", "4:13", "optimizer.momentum must be in [0, 1) (got 1)" },
        { M + "optimizer:\n  kind: adamw\n  betas: [0.9]", "5:10", "optimizer.betas must be two numbers [beta1, beta2]" },
        { M + "optimizer:\n  weight_decay: -1", "4:17", "optimizer.weight_decay must be >= 0" },
        { M + "optimizer:\n  lr_scale:\n    - { pattern: \"layer1.*\", scale: 0 }", "5:37", "optimizer.lr_scale.0.scale must be > 0" },
        { M + "optimizer:\n  lr_scale:\n    - { scale: 0.5 }", "5:7", "optimizer.lr_scale.0.pattern is required" },
        { M + "schedule: { kind: step }", "3:11", "schedule.step_size is required for kind step" },
        { M + "schedule: { kind: cosine, gamma: 0.5 }", "3:34", "schedule.gamma applies only to kind step" },
        { M + "schedule: { kind: constant, min_lr: 0.001 }", "3:37", "schedule.min_lr applies only to kind cosine" },
        { M + "epochs: 2\nschedule: { warmup_epochs: 2 }", "4:28", "schedule.warmup_epochs must be >= 0 and less than the total epochs (2)" },
        { M + "schedule: { kind: cosine, min_lr: 0.5 }", "3:35", "schedule.min_lr must be >= 0 and below optimizer.learning_rate (0.01)" },
        { M + "schedule: { kind: step, step_size: 2, gamma: 2 }", "3:46", "schedule.gamma must be in (0, 1]" },
        // training options
        { M + "class_weights: balancd", "3:16", "did you mean balanced?" },
        { M + "class_weights: [1, -2]", "3:20", "class_weights.1 must be > 0 (got -2)" },
        { Backbone + "data: { train: { path: p, classes: [a, b, c] } }\nclass_weights: [1, 2]", "3:16", "class_weights has 2 weights for the 3 classes of data.train.classes" },
        { M + "early_stopping: { patience: 3 }", "3:17", "early_stopping needs validation data: set data.val or data.val_split" },
        { Backbone + "data: { train: { path: p }, val_split: 0.2 }\nearly_stopping: { metric: accuracy }", "3:27", "early_stopping.metric must be one of val_loss, val_accuracy (got accuracy)" },
        { Backbone + "data: { train: { path: p }, val_split: 0.2 }\nearly_stopping: { patience: 0 }", "3:29", "early_stopping.patience must be at least 1 epoch" },
        // YAML itself
        { "", "1:1", "the recipe is empty" },
        { "- a\n- b", "1:1", "a recipe is a mapping of keys such as name, backbone, data (got a list)" },
        { M + "optimizer: [1, 2", "4:1", "not valid YAML" },
        { M + "epochs: 1\nepochs: 2", "4:1", "not valid YAML" },
        { M + "---\nepochs: 1", "4:1", "a recipe is one YAML document" },
        { M + "optimizer: [1, 2\nepochs: 3", "3:12", "not valid YAML: this '[' is not closed" },
        { M + "x: &a [1, *a]", "3:11", "the alias *a is inside the node that &a names (a recursive anchor)" },
        { M + "x: &a\n  y: *a", "4:6", "the alias *a is inside the node that &a names" },
        { M + "x: *nowhere", "3:4", "the alias *nowhere names no anchor &nowhere before it" },
        { M + "x: " + new string('[', 100_000) + new string(']', 100_000), "3:67", "nested more than 64 lists or mappings deep" },
        { M + "a: &a [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\nb: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", "4:37",
            "nested more than 64 lists or mappings deep once aliases are expanded" },
        { M + BillionLaughs, "7:40", "more than 100,000 values once aliases are expanded" },
    };

    /// <summary>Nine levels of ten aliases each: 10^9 values from a few lines.</summary>
    private static string BillionLaughs =>
        "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" +
        string.Concat(Enumerable.Range(1, 8).Select(i => $"l{i}: &l{i} [{string.Join(", ", Enumerable.Repeat($"*l{i - 1}", 10))}]\n"));

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void Parse_Mistake_ErrorWithLineColumnAndReason(string yaml, string lineColumn, string fragment)
    {
        var error = RecipeSamples.Error(yaml);

        Assert.Equal(lineColumn, $"{error.Line}:{error.Column}");
        Assert.StartsWith($"recipe.yaml:{lineColumn}: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(fragment, error.Reason, StringComparison.Ordinal);
        Assert.Equal("recipe.yaml", error.File);
    }

    [Fact]
    public void Parse_NegativeLearningRate_MessageInFullFormat()
    {
        var error = RecipeSamples.Error(M + "optimizer:\n  learning_rate: -0.1\n");

        Assert.Equal("recipe.yaml:4:18: optimizer.learning_rate must be > 0 (got -0.1)", error.Message);
    }
}
