using OnnxTrainer.Tests;

namespace ClassifierService.Tests;

/// <summary>The shipped validation images of the target task, in a fixed order.</summary>
internal static class ValidationImages
{
    /// <summary>The first <paramref name="perClass"/> images of every class folder.</summary>
    public static string[] Take(int perClass) =>
        [.. Directory.GetDirectories(RepositoryPaths.Of("data/fashion-target/val")).Order(StringComparer.Ordinal)
            .SelectMany(folder => Directory.GetFiles(folder).Order(StringComparer.Ordinal).Take(perClass))];
}
