using OnnxTrainer.Training;
using OnnxTrainer.Recipes;
using OnnxTrainer.Tests.Recipes;
using Xunit;

namespace OnnxTrainer.Tests.Training;

public class TrainableParametersTests
{
    private static readonly IReadOnlyList<IReadOnlyList<string>> Blocks =
    [
        ["conv1.weight", "bn1.weight", "bn1.bias"],
        ["layer1.0.conv1.weight", "layer1.0.bn1.weight"],
        ["layer2.0.conv1.weight", "layer2.0.bn1.weight"],
        ["layer3.0.conv1.weight", "layer3.0.bn1.weight"],
    ];

    private static readonly string[] Head = ["head.0.weight", "head.0.bias"];
    private static readonly string[] Backbone = Blocks.SelectMany(b => b).ToArray();

    private static TrainablePlan Resolve(string yaml, params string[] overrides) =>
        TrainableParameters.Resolve(RecipeSamples.Parse(RecipeSamples.Minimal + yaml, overrides), Blocks, Head);

    [Theory]
    [InlineData("backbone: { path: b.onnx }\ndata: { train: { path: i } }\nstrategy: feature-extraction")]
    [InlineData("backbone: { path: b.onnx, cut: 2 }\ndata: { train: { path: i } }\nstrategy: truncate")]
    public void Resolve_FrozenBackboneStrategies_OnlyTheHeadTrains(string yaml)
    {
        var plan = TrainableParameters.Resolve(RecipeSamples.Parse(yaml), Blocks, Head);

        Assert.Equal(Head, Assert.Single(plan.Stages).Trainable);
        Assert.Empty(plan.Reinitialized);
    }

    [Fact]
    public void Resolve_FineTune_EverythingInGraphOrder()
    {
        var stage = Assert.Single(Resolve("strategy: fine-tune\nepochs: 4\noptimizer: { learning_rate: 0.02 }").Stages);

        Assert.Equal([.. Backbone, .. Head], stage.Trainable);
        Assert.Equal((4, 0.02), (stage.Epochs, stage.LearningRate));
    }

    [Fact]
    public void Resolve_FineTuneLastTwo_LastTwoBlocksAndHead()
    {
        var stage = Assert.Single(Resolve("strategy: fine-tune\nfine_tune_last: 2").Stages);

        Assert.Equal(["layer2.0.conv1.weight", "layer2.0.bn1.weight", "layer3.0.conv1.weight", "layer3.0.bn1.weight", .. Head], stage.Trainable);
    }

    [Fact]
    public void Resolve_FineTuneLastMoreThanBlocks_ErrorAtTheValue()
    {
        var error = Assert.Throws<RecipeException>(() => Resolve("strategy: fine-tune\nfine_tune_last: 9"));

        Assert.Equal("recipe.yaml:4:17: fine_tune_last is 9 but the backbone has 4 blocks", error.Message);
    }

    [Fact]
    public void Resolve_FromScratch_AllTrainAndBackboneReinitialized()
    {
        var plan = Resolve("strategy: from-scratch");

        Assert.Equal([.. Backbone, .. Head], Assert.Single(plan.Stages).Trainable);
        Assert.Equal(Backbone, plan.Reinitialized);
    }

    [Fact]
    public void Resolve_TrainablePatterns_OverrideTheStrategy()
    {
        var stage = Assert.Single(Resolve("strategy: feature-extraction\ntrainable: [\"layer3.*\", \"bn?.*\"]").Stages);

        Assert.Equal(["bn1.weight", "bn1.bias", "layer3.0.conv1.weight", "layer3.0.bn1.weight", .. Head], stage.Trainable);
    }

    [Fact]
    public void Resolve_PatternMatchingNothing_ErrorAtThePattern()
    {
        var error = Assert.Throws<RecipeException>(() => Resolve("trainable:\n  - \"layer3.*\"\n  - \"layer9.*\""));

        Assert.Equal((5, 5), (error.Line, error.Column));
        Assert.Contains("trainable.1 'layer9.*' matches no backbone parameter (names look like conv1.weight, bn1.weight, bn1.bias;", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_Stages_OneSetPerStageWithItsLearningRate()
    {
        var plan = Resolve("""
            strategy: fine-tune
            optimizer: { learning_rate: 0.01 }
            stages:
              - { unfreeze_last: 0, epochs: 2 }
              - { unfreeze_last: 1, epochs: 3, learning_rate: 0.001 }
              - { trainable: ["*"], epochs: 1, learning_rate: 0.0001 }
            """);

        Assert.Equal([(2, 0.01), (3, 0.001), (1, 0.0001)], plan.Stages.Select(s => (s.Epochs, s.LearningRate)));
        Assert.Equal(Head, plan.Stages[0].Trainable);
        Assert.Equal(["layer3.0.conv1.weight", "layer3.0.bn1.weight", .. Head], plan.Stages[1].Trainable);
        Assert.Equal([.. Backbone, .. Head], plan.Stages[2].Trainable);
    }

    [Fact]
    public void Resolve_StageUnfreezesTooMany_ErrorAtThatStage()
    {
        var error = Assert.Throws<RecipeException>(() => Resolve("strategy: fine-tune\nstages:\n  - { unfreeze_last: 5, epochs: 1 }"));

        Assert.Equal("recipe.yaml:5:22: stages.0.unfreeze_last is 5 but the backbone has 4 blocks", error.Message);
    }

    [Fact]
    public void Resolve_DiscriminativeRates_BackboneScaledRulesFirstHeadAtOne()
    {
        var stage = Assert.Single(Resolve("""
            strategy: fine-tune
            optimizer:
              backbone_lr_scale: 0.1
              lr_scale:
                - { pattern: "layer3.*", scale: 0.5 }
                - { pattern: "*", scale: 0.2 }
            """).Stages);

        Assert.Equal(0.5, stage.LearningRateScales["layer3.0.bn1.weight"]);
        Assert.Equal(0.2, stage.LearningRateScales["conv1.weight"]);
        Assert.Equal(0.2, stage.LearningRateScales["head.0.bias"]);
        Assert.Equal(stage.Trainable.Count, stage.LearningRateScales.Count);
    }

    [Fact]
    public void Resolve_BackboneLrScaleOnly_HeadKeepsFullRate()
    {
        var stage = Assert.Single(Resolve("strategy: fine-tune\noptimizer: { backbone_lr_scale: 0.1 }").Stages);

        Assert.Equal(0.1, stage.LearningRateScales["layer1.0.conv1.weight"]);
        Assert.Equal(1, stage.LearningRateScales["head.0.weight"]);
    }

    [Fact]
    public void Resolve_LrScalePatternMatchingNothing_ErrorAtThePattern()
    {
        var error = Assert.Throws<RecipeException>(() => Resolve("optimizer:\n  lr_scale:\n    - { pattern: \"block9.*\", scale: 0.5 }"));

        Assert.Equal((5, 18), (error.Line, error.Column));
        Assert.Contains("optimizer.lr_scale.0.pattern 'block9.*' matches no parameter", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_OnnxStyleNames_GlobCharactersOnlyAreSpecial()
    {
        IReadOnlyList<IReadOnlyList<string>> blocks = [["onnx::Conv_193", "onnx::Conv_194"], ["/layer1/conv(1).weight"]];

        var plan = TrainableParameters.Resolve(RecipeSamples.Parse(RecipeSamples.Minimal + "trainable: [\"onnx::Conv_19?\", \"/layer1/conv(1).*\"]"), blocks, Head);

        Assert.Equal(["onnx::Conv_193", "onnx::Conv_194", "/layer1/conv(1).weight", .. Head], Assert.Single(plan.Stages).Trainable);
    }

    [Fact]
    public void AtBoundaries_CutPointCounts_SplitsAndDropsEmptyBlocks()
    {
        var blocks = ParameterBlocks.AtBoundaries(["a", "b", "c", "d", "e"], [2, 2, 3, 0, 5, 9]);

        Assert.Equal([["a", "b"], ["c"], ["d", "e"]], blocks);
    }

    [Fact]
    public void AtBoundaries_NoBoundaries_OneBlock()
    {
        Assert.Equal([["a", "b"]], ParameterBlocks.AtBoundaries(["a", "b"], []));
        Assert.Empty(ParameterBlocks.AtBoundaries([], [1]));
    }
}
