using OnnxTrainer.Inference;

namespace OnnxTrainer.Onnx;

/// <summary>
/// Reads tensor bytes stored beside a model file. Locations come from untrusted files, so a location
/// must be relative, must stay inside the model's folder (also after following symbolic links at any
/// level of the path, not only the last), and its offset and length must lie inside the data file.
/// </summary>
internal sealed class ExternalDataResolver(string? modelDirectory, string modelLabel)
{
    /// <param name="what">The tensor as the message should name it, e.g. "initializer 'conv1.weight'".</param>
    public byte[] Read(string what, string location, long offset, long? length, long expectedBytes)
    {
        string where = $"{modelLabel}: {what}";
        if (modelDirectory is null)
            throw new ModelFormatException($"{where}: external data '{location}' needs the model to be loaded from a file");
        if (string.IsNullOrEmpty(location))
            throw new ModelFormatException($"{where}: external data has no location");
        if (location.Contains('\0'))
            throw new ModelFormatException($"{where}: external data location contains a NUL character");
        if (Path.IsPathRooted(location) || location.Contains(':'))
            throw new ModelFormatException($"{where}: external data location '{location}' is absolute; it must be relative to the model's folder");
        if (location.Split('/', '\\').Any(part => part == ".."))
            throw new ModelFormatException($"{where}: external data location '{location}' climbs out of the model's folder");

        string root = Path.GetFullPath(modelDirectory);
        string path = Path.GetFullPath(Path.Combine(root, location));
        if (!RealPath.IsInside(root, path))
            throw new ModelFormatException($"{where}: external data location '{location}' resolves outside the model's folder");
        if (!File.Exists(path))
            throw new ModelFormatException($"{where}: external data file '{location}' does not exist");
        // A link anywhere on the way (a linked sub-folder as much as a linked file) may lead out of the folder.
        string realRoot = ResolveLinks(root, where);
        string realPath = ResolveLinks(path, where);
        if (!RealPath.IsInside(realRoot, realPath))
            throw new ModelFormatException($"{where}: external data file '{location}' is reached through a link to '{realPath}', outside the model's folder");

        long fileLength = new FileInfo(realPath).Length;
        long count = length ?? expectedBytes;
        if (offset < 0 || count < 0)
            throw new ModelFormatException($"{where}: external data offset {offset} / length {count} must not be negative");
        if (count != expectedBytes)
            throw new ModelFormatException($"{where}: external data length {count} does not match its shape ({expectedBytes} bytes expected)");
        if (offset > fileLength || count > fileLength - offset)
            throw new ModelFormatException($"{where}: external data [{offset}, {offset + count}) lies beyond the end of '{location}' ({fileLength} bytes)");

        if (count == 0) return []; // never opened: a pipe in the folder would block the open
        var bytes = new byte[count];
        using var handle = File.OpenHandle(realPath);
        int read = 0;
        while (read < count)
        {
            int n = RandomAccess.Read(handle, bytes.AsSpan(read), offset + read);
            if (n == 0) throw new ModelFormatException($"{where}: external data file '{location}' ended early");
            read += n;
        }
        return bytes;
    }

    private static string ResolveLinks(string fullPath, string where)
    {
        try
        {
            return RealPath.Of(fullPath);
        }
        catch (IOException e)
        {
            throw new ModelFormatException($"{where}: external data path {e.Message}", e);
        }
    }
}
