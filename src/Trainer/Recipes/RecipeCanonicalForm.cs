using System.Security.Cryptography;
using System.Text;
using YamlDotNet.RepresentationModel;

namespace OnnxTrainer.Recipes;

/// <summary>
/// The recipe as one normalized YAML text (keys sorted, comments and layout dropped, scalar styles kept because
/// they carry meaning) and its SHA-256: a reordered or reformatted recipe hashes the same, a changed value does not.
/// </summary>
internal static class RecipeCanonicalForm
{
    public static string Write(YamlMappingNode root)
    {
        var writer = new StringWriter { NewLine = "\n" };
        new YamlStream(new YamlDocument(Sorted(root))).Save(writer, assignAnchors: false);
        // The emitter closes the document with "...", which is noise in the recorded recipe.
        var text = writer.ToString();
        return text.EndsWith("...\n", StringComparison.Ordinal) ? text[..^4] : text;
    }

    public static string Hash(string canonicalYaml) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalYaml)));

    private static YamlNode Sorted(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new YamlMappingNode(mapping.Children
            .OrderBy(entry => YamlValue.TextOf(entry.Key), StringComparer.Ordinal)
            .Select(entry => new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode(YamlValue.TextOf(entry.Key)), Sorted(entry.Value)))),
        YamlSequenceNode sequence => new YamlSequenceNode(sequence.Children.Select(Sorted)),
        YamlScalarNode scalar => new YamlScalarNode(scalar.Value) { Style = scalar.Style },
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };
}
