namespace OnnxTrainer.Tests;

/// <summary>Files of the repository the tests run from (found as the folder holding Onnx.sln above the test binaries).</summary>
internal static class RepositoryPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Onnx.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Onnx.sln above '{AppContext.BaseDirectory}': run the tests from a checkout of the repository");
    });

    /// <summary>The absolute path of <paramref name="relative"/> (e.g. <c>recipes</c>, <c>tests/fixtures/generated</c>).</summary>
    public static string Of(string relative) => Path.Combine(Root.Value, relative);
}
