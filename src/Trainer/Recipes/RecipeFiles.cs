namespace OnnxTrainer.Recipes;

/// <summary>
/// Checks that the files a recipe names exist. Kept apart from loading so a recipe can be validated, hashed and
/// overridden on a machine that does not hold its backbone or data yet; run it before training starts.
/// </summary>
public static class RecipeFiles
{
    public static void EnsureExist(Recipe recipe)
    {
        if (recipe.Backbone.Path is { } backbone) Require(recipe, "backbone.path", backbone, isFolder: false);
        if (recipe.Backbone.Preprocess is { } preprocess) Require(recipe, "backbone.preprocess", preprocess, isFolder: false);
        Check(recipe, "data.train", recipe.Data.Train);
        if (recipe.Data.Val is { } val) Check(recipe, "data.val", val);
    }

    private static void Check(Recipe recipe, string path, DataSourceSpec source)
    {
        if (source.Path is { } sourcePath) Require(recipe, $"{path}.path", sourcePath, isFolder: source.Kind == DataSourceKind.ImageFolder);
        if (source.Images is { } images) Require(recipe, $"{path}.images", images, isFolder: false);
        if (source.Labels is { } labels) Require(recipe, $"{path}.labels", labels, isFolder: false);
    }

    private static void Require(Recipe recipe, string path, string fullPath, bool isFolder)
    {
        if (isFolder ? !Directory.Exists(fullPath) : !File.Exists(fullPath))
            throw recipe.Error(path, $"{path}: no such {(isFolder ? "folder" : "file")} {fullPath}");
    }
}
