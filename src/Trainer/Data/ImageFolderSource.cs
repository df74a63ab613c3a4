using OnnxTrainer.Inference;

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

        // Folders are walked by where they really lead: each once, in its own class (a link to an ancestor is a loop, one to
        // another class's folder not a second label), and never out of the dataset (a link to / or /proc/self/root would walk
        // the whole machine).
        var realRoot = RealFolder(root, root);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var files = new List<(string, int)>();
        for (var label = 0; label < classes.Length; label++)
        {
            var paths = ImageFiles(root, realRoot, Path.Combine(root, classes[label]), visited).Order(StringComparer.Ordinal);
            files.AddRange(paths.Select(path => (path, label)));
        }

        return (classes, files);
    }

    /// <summary>The image files below <paramref name="classRoot"/>, hidden entries left out.</summary>
    private static List<string> ImageFiles(string root, string realRoot, string classRoot, HashSet<string> visited)
    {
        var realClass = RealFolder(root, classRoot);
        var files = new List<string>();
        var pending = new Stack<string>([classRoot]);
        var options = new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0 };
        while (pending.TryPop(out var folder))
        {
            var real = RealFolder(root, folder);
            if (!RealPath.IsInside(realRoot, real))
            {
                throw new DatasetException($"'{folder}' is a link to '{real}', outside the image folder '{root}'; move or copy those images inside it.");
            }

            if (!RealPath.IsInside(realClass, real) || !visited.Add(real))
            {
                continue;
            }

            foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos("*", options))
            {
                if (IsHidden(entry.Name))
                {
                    continue;
                }

                if (entry is DirectoryInfo)
                {
                    pending.Push(entry.FullName);
                }
                else if (ImageExtensions.Contains(entry.Extension))
                {
                    files.Add(entry.FullName);
                }
            }
        }

        return files;
    }

    private static string RealFolder(string root, string folder)
    {
        try
        {
            return RealPath.Of(Path.GetFullPath(folder));
        }
        catch (IOException e)
        {
            throw new DatasetException($"Image folder '{root}': {e.Message}.", e);
        }
    }

    private static bool IsHidden(string name) => name.StartsWith('.');
}
