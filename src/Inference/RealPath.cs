namespace OnnxTrainer.Inference;

/// <summary>
/// Where a path really leads, every symbolic link along it followed, like realpath(3): the one check of whether a file
/// or folder named inside a trusted folder (a model's external data, a dataset's class folders) stays inside it.
/// </summary>
internal static class RealPath
{
    /// <summary>The kernel's own limit (Linux's MAXSYMLINKS): more links on one path is a loop.</summary>
    private const int MaxLinkHops = 40;

    /// <summary>
    /// <paramref name="fullPath"/> with every link followed. Each component is resolved in turn, so ".." inside a link
    /// target applies to the already resolved folder, as the kernel does it.
    /// </summary>
    /// <exception cref="IOException">More than 40 links on the way (a loop).</exception>
    public static string Of(string fullPath)
    {
        string current = Path.GetPathRoot(fullPath) ?? "/";
        var pending = new LinkedList<string>(Split(fullPath[current.Length..]));
        int hops = 0;
        while (pending.First is { } first)
        {
            string part = first.Value;
            pending.RemoveFirst();
            if (part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            string next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.LinkTarget is not { } target)
            {
                current = next;
                continue;
            }
            if (++hops > MaxLinkHops) throw new IOException($"'{fullPath}' has too many levels of symbolic links");
            if (Path.IsPathRooted(target)) current = Path.GetPathRoot(target) ?? current;
            string[] targetParts = Split(Path.IsPathRooted(target) ? target[current.Length..] : target);
            for (int i = targetParts.Length - 1; i >= 0; i--) pending.AddFirst(targetParts[i]);
        }
        return current;
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="root"/> itself or below it (both real, full paths).</summary>
    public static bool IsInside(string root, string path)
    {
        string prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return path == root || path.StartsWith(prefix, StringComparison.Ordinal);
    }

    private static string[] Split(string path) =>
        path.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
}
