namespace OnnxTrainer.Onnx;

/// <summary>
/// Reads tensor bytes stored beside a model file. Locations come from untrusted files, so a location
/// must be relative, must stay inside the model's folder (also after following symbolic links), and
/// its offset and length must lie inside the data file.
/// </summary>
internal sealed class ExternalDataResolver(string? modelDirectory, string modelLabel)
{
    public byte[] Read(string tensorName, string location, long offset, long? length, long expectedBytes)
    {
        string where = $"{modelLabel}: tensor '{tensorName}'";
        if (modelDirectory is null)
            throw new ModelFormatException($"{where}: external data '{location}' needs the model to be loaded from a file");
        if (string.IsNullOrEmpty(location))
            throw new ModelFormatException($"{where}: external data has no location");
        if (Path.IsPathRooted(location) || location.Contains(':') )
            throw new ModelFormatException($"{where}: external data location '{location}' is absolute; it must be relative to the model's folder");
        if (location.Split('/', '\\').Any(part => part == ".."))
            throw new ModelFormatException($"{where}: external data location '{location}' climbs out of the model's folder");

        string root = Path.GetFullPath(modelDirectory);
        string path = Path.GetFullPath(Path.Combine(root, location));
        if (!IsInside(root, path))
            throw new ModelFormatException($"{where}: external data location '{location}' resolves outside the model's folder");
        if (!File.Exists(path))
            throw new ModelFormatException($"{where}: external data file '{location}' does not exist");
        var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true);
        if (target is not null && !IsInside(Path.GetFullPath(new FileInfo(root).ResolveLinkTarget(true)?.FullName ?? root), target.FullName))
            throw new ModelFormatException($"{where}: external data file '{location}' is a link to '{target.FullName}' outside the model's folder");

        long fileLength = new FileInfo(path).Length;
        long count = length ?? expectedBytes;
        if (offset < 0 || count < 0)
            throw new ModelFormatException($"{where}: external data offset {offset} / length {count} must not be negative");
        if (count != expectedBytes)
            throw new ModelFormatException($"{where}: external data length {count} does not match its shape ({expectedBytes} bytes expected)");
        if (offset > fileLength || count > fileLength - offset)
            throw new ModelFormatException($"{where}: external data [{offset}, {offset + count}) lies beyond the end of '{location}' ({fileLength} bytes)");

        var bytes = new byte[count];
        using var handle = File.OpenHandle(path);
        int read = 0;
        while (read < count)
        {
            int n = RandomAccess.Read(handle, bytes.AsSpan(read), offset + read);
            if (n == 0) throw new ModelFormatException($"{where}: external data file '{location}' ended early");
            read += n;
        }
        return bytes;
    }

    private static bool IsInside(string root, string path)
    {
        string prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, StringComparison.Ordinal);
    }
}
