using System.Text;
using OnnxTrainer.Inference;

namespace OnnxTrainer.Data;

/// <summary>
/// A CSV manifest of <c>path,label</c> rows: paths relative to the CSV's folder (or absolute), labels
/// are class names. An optional first row <c>path,label</c> is a header. Fields may be quoted
/// ("a, b" and "say ""hi""" as in RFC 4180); blank lines are ignored.
/// </summary>
internal static class CsvManifestSource
{
    /// <summary>Largest manifest read (256 MB: some million rows).</summary>
    private const long MaxFileBytes = 256L << 20;

    /// <summary>Class names (distinct labels, sorted ordinal) and each row's file and label, in file order.</summary>
    public static (IReadOnlyList<string> Classes, List<(string Path, int Label)> Files) Read(string csvPath)
    {
        string[] lines;
        try
        {
            lines = BoundedFile.ReadAllText(csvPath, MaxFileBytes).ReplaceLineEndings("\n").Split('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DatasetException($"Cannot read CSV manifest '{csvPath}': {e.Message}", e);
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(csvPath))!;
        var rows = new List<(string Path, string Label)>();
        var firstLine = new Dictionary<string, (int Line, string Label)>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i]))
            {
                continue;
            }

            var fields = SplitFields(lines[i], csvPath, i + 1);
            if (fields.Count != 2)
            {
                throw new DatasetException($"{csvPath}:{i + 1}: expected 2 fields 'path,label', found {fields.Count}.");
            }

            if (rows.Count == 0 && IsHeader(fields))
            {
                continue;
            }

            if (fields[0].Length == 0 || fields[1].Length == 0)
            {
                throw new DatasetException($"{csvPath}:{i + 1}: path and label must not be empty.");
            }

            if (fields[0].Contains('\0'))
            {
                throw new DatasetException($"{csvPath}:{i + 1}: the path contains a NUL character, which no file name can hold.");
            }

            var path = Path.GetFullPath(fields[0], directory);
            if (!firstLine.TryAdd(path, (i + 1, fields[1])) && firstLine[path] is var (line, label) && label != fields[1])
            {
                throw new DatasetException($"{csvPath}:{i + 1}: {fields[0]} is labelled '{fields[1]}' here and '{label}' on line {line}; an image has one label.");
            }

            rows.Add((path, fields[1]));
        }

        var classes = rows.Select(row => row.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var labelOf = classes.Select((name, index) => (name, index)).ToDictionary(p => p.name, p => p.index, StringComparer.Ordinal);
        return (classes, rows.Select(row => (row.Path, labelOf[row.Label])).ToList());
    }

    private static bool IsHeader(List<string> fields) =>
        fields[0].Equals("path", StringComparison.OrdinalIgnoreCase) && fields[1].Equals("label", StringComparison.OrdinalIgnoreCase);

    private static List<string> SplitFields(string line, string csvPath, int lineNumber)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var i = 0;
        while (true)
        {
            field.Clear();
            while (i < line.Length && line[i] == ' ')
            {
                i++;
            }

            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new DatasetException($"{csvPath}:{lineNumber}: unterminated quoted field.");
                    }

                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    field.Append(line[i++]);
                }

                while (i < line.Length && line[i] == ' ')
                {
                    i++;
                }

                if (i < line.Length && line[i] != ',')
                {
                    throw new DatasetException($"{csvPath}:{lineNumber}: unexpected text after a quoted field.");
                }

                fields.Add(field.ToString());
            }
            else
            {
                var end = line.IndexOf(',', i);
                if (end < 0)
                {
                    end = line.Length;
                }

                fields.Add(line[i..end].Trim());
                i = end;
            }

            if (i >= line.Length)
            {
                return fields;
            }

            i++; // the comma
        }
    }
}
