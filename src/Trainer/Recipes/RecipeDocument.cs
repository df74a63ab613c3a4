using YamlDotNet.RepresentationModel;

namespace OnnxTrainer.Recipes;

/// <summary>A recipe's YAML tree after overrides, and where each node came from: the file, or a <c>--set</c> override.</summary>
internal sealed class RecipeDocument(string file, YamlMappingNode root, IReadOnlyDictionary<YamlNode, string> overrideOrigins)
{
    public string File { get; } = file;
    public YamlMappingNode Root { get; } = root;

    public RecipeLocation Locate(YamlNode node) =>
        overrideOrigins.TryGetValue(node, out var text) ? new(File, 0, 0, text) : new(File, (int)node.Start.Line, (int)node.Start.Column);

    public RecipeException Error(YamlNode node, string reason) => new(Locate(node), reason);

    /// <summary>The location of every key's value and every list item by dotted path; the root is "".</summary>
    public IReadOnlyDictionary<string, RecipeLocation> IndexLocations()
    {
        var index = new Dictionary<string, RecipeLocation>(StringComparer.Ordinal);
        void Visit(YamlNode node, string path)
        {
            index[path] = Locate(node);
            string Child(string segment) => path.Length == 0 ? segment : $"{path}.{segment}";
            if (node is YamlMappingNode mapping)
                foreach (var (key, value) in mapping.Children)
                    Visit(value, Child(YamlValue.TextOf(key)));
            else if (node is YamlSequenceNode sequence)
                for (int i = 0; i < sequence.Children.Count; i++)
                    Visit(sequence.Children[i], Child(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        Visit(Root, "");
        return index;
    }
}
