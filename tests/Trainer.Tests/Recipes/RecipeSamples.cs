using OnnxTrainer.Recipes;
using Xunit;

namespace OnnxTrainer.Tests.Recipes;

/// <summary>Recipes written inline: parsed as file "recipe.yaml" in folder /base, so locations and paths are predictable.</summary>
internal static class RecipeSamples
{
    /// <summary>The smallest valid recipe: two lines, so a test's own lines start at line 3.</summary>
    public const string Minimal = "backbone: { path: b.onnx }\ndata: { train: { path: images } }\n";

    public static Recipe Parse(string yaml, params string[] overrides) => RecipeLoader.Parse(yaml, "recipe.yaml", overrides, "/base");

    public static RecipeException Error(string yaml, params string[] overrides) =>
        Assert.Throws<RecipeException>(() => Parse(yaml, overrides));
}
