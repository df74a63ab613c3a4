namespace OnnxTrainer.Data;

/// <summary>
/// The torchvision ImageFolder layout: one subfolder per class under the root, images anywhere
/// below it (nested folders allowed). Hidden entries (leading dot) and non-image files are ignored.
/// </summary>
internal static class ImageFolderSource
{
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp",
    };

    /// <summary>Class names (every non-hidden subfolder, sorted ordinal) and the image files of each, sorted by path.</summary>
    public static (IReadOnlyList<string> Classes, List<(string Path, int Label)> Files) Enumerate(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new DatasetException($"Image folder '{root}' does not exist.");
        }

        var classes = Directory.EnumerateDirectories(root)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => !IsHidden(name))
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (classes.Length == 0)
        {
            throw new DatasetException($"Image folder '{root}' has no class subfolders; expected ROOT/<class>/<image files>.");
        }

        var files = new List<(string, int)>();
        var recurse = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        for (var label = 0; label < classes.Length; label++)
        {
            var classRoot = Path.Combine(root, classes[label]);
            var paths = Directory.EnumerateFiles(classRoot, "*", recurse)
                .Where(path => ImageExtensions.Contains(Path.GetExtension(path))
                    && !Path.GetRelativePath(classRoot, path).Split(Path.DirectorySeparatorChar).Any(IsHidden))
                .Order(StringComparer.Ordinal);
            files.AddRange(paths.Select(path => (path, label)));
        }

        return (classes, files);
    }

    private static bool IsHidden(string name) => name.StartsWith('.');
}
