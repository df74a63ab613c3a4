using OnnxTrainer.Recipes;

namespace OnnxTrainer.Cli;

/// <summary>
/// The folder a command writes its run to (<c>--out</c>, else <c>artifacts/&lt;recipe name&gt;</c>), tried before any long
/// work, so a place that cannot be written (read-only, under a file, no permission) fails at once, naming it.
/// </summary>
internal static class RunFolder
{
    /// <summary>The run folder's path, once a file could be made in it; folders made for the trial are removed again.</summary>
    public static string Check(string? output, Recipe recipe)
    {
        string directory = Path.GetFullPath(output ?? Path.Combine("artifacts", recipe.Name));
        string? firstMissing = null;
        for (string? folder = directory; folder is not null && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder)) firstMissing = folder;
        try
        {
            Directory.CreateDirectory(directory);
            using (File.Create(Path.Combine(directory, ".write-test"), 1, FileOptions.DeleteOnClose)) { }
            if (firstMissing is not null) Directory.Delete(firstMissing, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{output ?? directory}: cannot write the run folder there ({e.Message})", e);
        }
        return output ?? Path.Combine("artifacts", recipe.Name);
    }
}
