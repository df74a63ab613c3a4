using OnnxTrainer.Recipes;
using Xunit;

namespace OnnxTrainer.Tests.Recipes;

public class RecipeOverrideTests
{
    private const string Staged = RecipeSamples.Minimal + """
        strategy: fine-tune
        optimizer:
          learning_rate: 0.1
        stages:
          - { unfreeze_last: 0, epochs: 1 }
          - { unfreeze_last: 2, epochs: 2 }
        """;

    [Fact]
    public void Override_ExistingNestedValue_Replaced()
    {
        var recipe = RecipeSamples.Parse(Staged, "optimizer.learning_rate=0.05");

        Assert.Equal(0.05, recipe.Optimizer.LearningRate);
    }

    [Fact]
    public void Override_TopLevelValue_Replaced()
    {
        var recipe = RecipeSamples.Parse(RecipeSamples.Minimal + "epochs: 10\n", "epochs=3");

        Assert.Equal(3, recipe.Epochs);
    }

    [Fact]
    public void Override_MissingSections_Created()
    {
        var recipe = RecipeSamples.Parse(RecipeSamples.Minimal, "data.augment.horizontal_flip=false", "data.augment.rotation=15");

        Assert.Equal(new AugmentSpec(null, 0, 15, null), recipe.Data.Augment);
    }

    [Fact]
    public void Override_YamlListValue_Parsed()
    {
        var recipe = RecipeSamples.Parse(RecipeSamples.Minimal, "input.size=[160, 128]");

        Assert.Equal((160, 128), (recipe.Input.Height, recipe.Input.Width));
    }

    [Fact]
    public void Override_ListItemByIndex_Replaced()
    {
        var recipe = RecipeSamples.Parse(Staged, "stages.1.epochs=7");

        Assert.Equal(7, recipe.Stages[1].Epochs);
        Assert.Equal(8, recipe.Epochs);
    }

    [Fact]
    public void Override_SameKeyTwice_LastWins()
    {
        var recipe = RecipeSamples.Parse(RecipeSamples.Minimal, "batch_size=8", "batch_size=16");

        Assert.Equal(16, recipe.BatchSize);
    }

    [Fact]
    public void Override_EmptyValue_UnsetsTheKey()
    {
        var recipe = RecipeSamples.Parse(RecipeSamples.Minimal.Replace("{ path: images }", "{ path: images }, val_split: 0.2", StringComparison.Ordinal), "data.val_split=");

        Assert.Null(recipe.Data.ValSplit);
    }

    [Fact]
    public void Override_Value_LocatedAtTheOverride()
    {
        var recipe = RecipeSamples.Parse(RecipeSamples.Minimal, "epochs=4");

        Assert.Equal(new RecipeLocation("recipe.yaml", 0, 0, "epochs=4"), recipe.Locate("epochs"));
    }

    [Theory]
    [InlineData("optimizer.learning_rate=-1", "optimizer.learning_rate must be > 0 (got -1)")]
    [InlineData("optimizer.lr=0.1", "unknown key 'optimizer.lr'")]
    [InlineData("optimizer.learnig_rate=0.1", "did you mean 'learning_rate'?")]
    [InlineData("strategy=truncate", "strategy truncate needs backbone.cut")]
    [InlineData("epochs=3", "epochs cannot be set with stages")]
    [InlineData("stages.5.epochs=1", "stages is a list of 2 items; '5' is not an index into it")]
    [InlineData("stages.x.epochs=1", "'x' is not an index")]
    [InlineData("strategy.kind=1", "strategy is a single value, so it has no 'kind'")]
    [InlineData("input.size=[1,", "the value: not valid YAML")]
    [InlineData("input.size=[1, 2]\n---\n[3, 4]", "the value is more than one YAML document")]
    [InlineData("name=&a [*a]", "the value: the alias *a is inside the node that &a names")]
    [InlineData("epochs", "an override must look like key=value")]
    [InlineData("=3", "is not a dotted key path")]
    [InlineData("data..path=x", "is not a dotted key path")]
    [InlineData("data.augment.horizontal_flip=maybe", "data.augment.horizontal_flip must be a number (got maybe)")]
    public void Override_Invalid_ErrorNamesTheOverride(string assignment, string fragment)
    {
        var error = RecipeSamples.Error(Staged, assignment);

        Assert.StartsWith($"recipe.yaml: --set {assignment}: ", error.Message, StringComparison.Ordinal);
        Assert.Equal(assignment, error.Location.Override);
        Assert.Equal((0, 0), (error.Line, error.Column));
        Assert.Contains(fragment, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Override_ValidButRecipeWrong_ErrorStillPointsIntoTheFile()
    {
        var error = RecipeSamples.Error(RecipeSamples.Minimal + "batch_size: 0\n", "epochs=3");

        Assert.Equal("recipe.yaml:3:13: batch_size must be at least 1 (got 0)", error.Message);
    }
}
