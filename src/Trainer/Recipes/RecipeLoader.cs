using OnnxTrainer.Inference;
using YamlDotNet.RepresentationModel;

namespace OnnxTrainer.Recipes;

/// <summary>
/// Reads a recipe file, applies <c>--set</c> overrides and validates everything it can without opening the backbone
/// or the data: every mistake is a <see cref="RecipeException"/> naming the file, line and column, or the override.
/// Whether the files it names exist is checked separately by <see cref="RecipeFiles.EnsureExist"/>.
/// </summary>
public static class RecipeLoader
{
    /// <summary>Largest recipe file read (1 MB): a recipe is a page of YAML.</summary>
    private const long MaxFileBytes = 1 << 20;

    public static Recipe Load(string path, IReadOnlyList<string>? overrides = null)
    {
        // Never read, let alone quote, a file that is not meant as a recipe (train /etc/passwd).
        if (Path.GetExtension(path).ToLowerInvariant() is not (".yaml" or ".yml"))
            throw new RecipeException(new RecipeLocation(path, 0, 0), "a recipe is a YAML file named *.yaml or *.yml");
        string text;
        try
        {
            text = BoundedFile.ReadAllText(path, MaxFileBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RecipeException(new RecipeLocation(path, 0, 0), $"cannot read the recipe: {e.Message}");
        }
        return Parse(text, path, overrides, Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <param name="file">The name errors give, usually the path the user typed.</param>
    /// <param name="baseDirectory">The folder that relative paths in the recipe are relative to.</param>
    public static Recipe Parse(string yaml, string file, IReadOnlyList<string>? overrides, string baseDirectory)
    {
        var root = ParseTree(yaml, file);
        var origins = new Dictionary<YamlNode, string>(ReferenceEqualityComparer.Instance);
        foreach (var assignment in overrides ?? [])
            RecipeOverrides.Apply(file, root, assignment, origins);

        var document = new RecipeDocument(file, root, origins);
        var canonical = RecipeCanonicalForm.Write(root);
        return new RecipeReader(document, baseDirectory).Read(canonical, RecipeCanonicalForm.Hash(canonical));
    }

    private static YamlMappingNode ParseTree(string yaml, string file)
    {
        var stream = BoundedYaml.Load(yaml, (at, reason) => new RecipeException(new RecipeLocation(file, (int)at.Line, (int)at.Column), reason));
        if (stream.Documents.Count == 0) throw new RecipeException(new RecipeLocation(file, 1, 1), "the recipe is empty");
        if (stream.Documents.Count > 1)
            throw new RecipeException(new RecipeLocation(file, (int)stream.Documents[1].RootNode.Start.Line, 1), "a recipe is one YAML document; remove the second '---'");
        var rootNode = stream.Documents[0].RootNode;
        return rootNode as YamlMappingNode
            ?? throw new RecipeException(new RecipeLocation(file, (int)rootNode.Start.Line, (int)rootNode.Start.Column),
                $"a recipe is a mapping of keys such as name, backbone, data (got {Excerpt(YamlValue.TextOf(rootNode))})");
    }

    /// <summary>At most the first 40 characters of the first line: a file that is not a recipe is never echoed whole.</summary>
    private static string Excerpt(string text)
    {
        string line = text.Split('\n', 2)[0];
        return line.Length <= 40 && line.Length == text.Length ? line : $"{line[..Math.Min(line.Length, 40)]}...";
    }
}
