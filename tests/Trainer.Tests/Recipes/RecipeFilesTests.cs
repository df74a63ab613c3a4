using OnnxTrainer.Recipes;
using Xunit;

namespace OnnxTrainer.Tests.Recipes;

public sealed class RecipeFilesTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("recipe-files-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private Recipe Parse(string yaml) => RecipeLoader.Parse(yaml, "recipe.yaml", null, folder);

    [Theory]
    [InlineData(null, null)]
    [InlineData("b.onnx", "backbone.path")]
    [InlineData("images", "data.train.path")]
    [InlineData("i.gz", "data.val.images")]
    [InlineData("l.gz", "data.val.labels")]
    public void EnsureExist_OneFileMissing_OnlyItsKeyNamed(string? missing, string? key)
    {
        foreach (var file in new[] { "b.onnx", "i.gz", "l.gz" }.Where(f => f != missing)) File.WriteAllBytes(Path.Combine(folder, file), []);
        if (missing != "images") Directory.CreateDirectory(Path.Combine(folder, "images"));
        var recipe = Parse("backbone: { path: b.onnx }\ndata:\n  train: { path: images }\n  val: { kind: idx, images: i.gz, labels: l.gz }\n");

        var error = Record.Exception(() => RecipeFiles.EnsureExist(recipe));

        if (key is null) Assert.Null(error);
        else Assert.StartsWith(key + ":", Assert.IsType<RecipeException>(error).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void EnsureExist_MissingBackbone_ErrorAtItsPath()
    {
        Directory.CreateDirectory(Path.Combine(folder, "images"));

        var error = Assert.Throws<RecipeException>(() => RecipeFiles.EnsureExist(Parse("backbone:\n  path: missing.onnx\ndata: { train: { path: images } }\n")));

        Assert.Equal((2, 9), (error.Line, error.Column));
        Assert.Contains($"backbone.path: no such file {Path.Combine(folder, "missing.onnx")}", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void EnsureExist_ImageFolderIsAFile_ErrorAtDataPath()
    {
        File.WriteAllBytes(Path.Combine(folder, "b.onnx"), []);
        File.WriteAllBytes(Path.Combine(folder, "images"), []);

        var error = Assert.Throws<RecipeException>(() => RecipeFiles.EnsureExist(Parse("backbone: { path: b.onnx }\ndata:\n  train:\n    path: images\n")));

        Assert.Equal((4, 11), (error.Line, error.Column));
        Assert.Contains("data.train.path: no such folder", error.Reason, StringComparison.Ordinal);
    }
}
