namespace OnnxTrainer.Inference;

/// <summary>
/// The one way untrusted input files (images, models, recipes, CSV and IDX data) are opened: only a regular file, after
/// following links, with a size the file system knows and at most a given number of bytes. A pipe, a device (a link to
/// <c>/dev/zero</c> or <c>/dev/urandom</c>) or a <c>/proc</c> file reports no size, so it is refused before it is opened,
/// where it would block (a FIFO without writer) or never end; reading stops at the size found, so a growing file cannot
/// outrun the bound either.
/// </summary>
internal static class BoundedFile
{
    /// <summary>Opens <paramref name="path"/> for reading after the checks above.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/> (or a dangling link).</exception>
    /// <exception cref="IOException">Not a regular file, empty, or over <paramref name="maxBytes"/>; the message says which, without the path (callers name the file).</exception>
    public static FileStream OpenRead(string path, long maxBytes, int bufferSize = 4096)
    {
        long length = CheckedLength(path, maxBytes);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize);
        long opened = stream.Length;
        if (opened != length)
        {
            stream.Dispose();
            throw new IOException($"changed while it was being opened ({length:N0} bytes, then {opened:N0})");
        }
        return stream;
    }

    /// <summary>The whole content of <paramref name="path"/>, after the checks of <see cref="OpenRead"/>.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        using var stream = OpenRead(path, maxBytes, bufferSize: 1);
        var bytes = GC.AllocateUninitializedArray<byte>((int)stream.Length);
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>The whole content of <paramref name="path"/> as text (UTF-8 unless a byte order mark says otherwise), after the checks of <see cref="OpenRead"/>.</summary>
    public static string ReadAllText(string path, long maxBytes)
    {
        using var reader = new StreamReader(OpenRead(path, maxBytes));
        return reader.ReadToEnd();
    }

    /// <summary>The size of the regular file at <paramref name="path"/>, checked against <paramref name="maxBytes"/>.</summary>
    public static long CheckedLength(string path, long maxBytes)
    {
        if (Directory.Exists(path)) throw new IOException("a folder, not a file");
        // A link's own size is that of the name it holds: the size that counts is its final target's.
        var file = new FileInfo(path);
        if (file.LinkTarget is not null) file = (FileInfo?)file.ResolveLinkTarget(returnFinalTarget: true) ?? file;
        if (!file.Exists) throw new FileNotFoundException("no such file", path);
        long length = file.Length;
        if (length == 0) throw new IOException("empty (0 bytes) or not a regular file (a pipe, a device or a /proc file); only regular files are read");
        if (length > maxBytes) throw new IOException($"{Size(length)}, over the limit of {Size(maxBytes)} for this kind of file");
        return length;
    }

    private static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes / (double)(1 << 20):N1} MB" : $"{bytes:N0} bytes";
}
