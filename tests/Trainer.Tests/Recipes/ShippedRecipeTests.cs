using OnnxTrainer.Training;
using OnnxTrainer.Recipes;
using Xunit;

namespace OnnxTrainer.Tests.Recipes;

/// <summary>The ready recipes in recipes/ load as shipped (their backbone and data files may not be there yet).</summary>
public class ShippedRecipeTests
{
    private static readonly string Folder = RepositoryPaths.Of("recipes");

    public static TheoryData<string> Files => new(Directory.GetFiles(Folder, "*.yaml").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Files))]
    public void Load_ShippedRecipe_Valid(string file)
    {
        var recipe = RecipeLoader.Load(Path.Combine(Folder, file));

        Assert.Equal(Path.GetFileNameWithoutExtension(file), recipe.Name);
        Assert.True(recipe.Epochs > 0);
    }

    [Theory]
    [InlineData("feature-extraction", TransferStrategy.FeatureExtraction)]
    [InlineData("truncate", TransferStrategy.Truncate)]
    [InlineData("fine-tune", TransferStrategy.FineTune)]
    [InlineData("gradual-unfreezing", TransferStrategy.FineTune)]
    [InlineData("from-scratch", TransferStrategy.FromScratch)]
    [InlineData("quickstart", TransferStrategy.FeatureExtraction)]
    [InlineData("quickstart-fashion", TransferStrategy.FeatureExtraction)]
    public void Load_OneRecipePerStrategy_HasThatStrategy(string name, TransferStrategy strategy)
    {
        var recipe = RecipeLoader.Load(Path.Combine(Folder, name + ".yaml"));

        Assert.Equal(strategy, recipe.Strategy);
        Assert.Equal(name == "gradual-unfreezing", recipe.Stages.Count > 0);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Resolve_ShippedRecipe_PlansOnAResNetLikeBackbone(string file)
    {
        var recipe = RecipeLoader.Load(Path.Combine(Folder, file));
        IReadOnlyList<IReadOnlyList<string>> backbone =
            [["conv1.weight", "bn1.weight"], ["layer1.0.conv1.weight"], ["layer2.0.conv1.weight"], ["layer3.0.conv1.weight"], ["layer4.0.conv1.weight"]];

        var plan = TrainableParameters.Resolve(recipe, backbone, ["head.weight", "head.bias"]);

        Assert.Equal(recipe.Epochs, plan.Stages.Sum(s => s.Epochs));
        Assert.All(plan.Stages, stage => Assert.EndsWith("head.bias", stage.Trainable[^1], StringComparison.Ordinal));
    }

    [Fact]
    public void Load_RelativePaths_ResolvedAgainstTheRecipeFolder()
    {
        var recipe = RecipeLoader.Load(Path.Combine(Folder, "quickstart.yaml"));

        Assert.Equal(Path.GetFullPath(Path.Combine(Folder, "..", "data", "photos", "train")), recipe.Data.Train.Path);
        Assert.Equal(Path.GetFullPath(Path.Combine(Folder, "..", "models", "imagenet", "ResNetPreprocess.onnx")), recipe.Backbone.Preprocess);
    }

    [Fact]
    public void Load_WithOverride_SameAsEditedFile()
    {
        var recipe = RecipeLoader.Load(Path.Combine(Folder, "fine-tune.yaml"), ["optimizer.learning_rate=0.003", "data.augment.horizontal_flip=false"]);

        Assert.Equal(0.003, recipe.Optimizer.LearningRate);
        Assert.Equal(0, recipe.Data.Augment.HorizontalFlip);
    }
}
