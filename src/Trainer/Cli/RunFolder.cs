using OnnxTrainer.Recipes;

namespace OnnxTrainer.Cli;

/// <summary>
/// The folder a command writes its run to (<c>--out</c>, else <c>artifacts/&lt;recipe name&gt;</c>), made and tried with a
/// file before any long work, so a place that cannot be written (read-only, under a file, no permission) fails at once.
/// </summary>
internal static class RunFolder
{
    public static string Create(string? output, Recipe recipe)
    {
        string directory = output ?? Path.Combine("artifacts", recipe.Name);
        try
        {
            Directory.CreateDirectory(directory);
            using (File.Create(Path.Combine(directory, ".write-test"), 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{directory}: cannot write the run folder there ({e.Message})", e);
        }
        return directory;
    }
}
