using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace OnnxTrainer.Recipes;

/// <summary>
/// Applies <c>--set key=value</c> overrides to the YAML tree before it is read, so overridden values go through
/// exactly the same validation as written ones. Keys are dotted paths (list items by index: <c>stages.1.epochs</c>);
/// values are YAML (<c>input.size=[160,160]</c>). Every node an override adds is remembered, so errors name it.
/// </summary>
internal static class RecipeOverrides
{
    public static void Apply(string file, YamlMappingNode root, string assignment, Dictionary<YamlNode, string> origins)
    {
        RecipeException Error(string reason) => new(new RecipeLocation(file, 0, 0, assignment), reason);

        int equals = assignment.IndexOf('=', StringComparison.Ordinal);
        if (equals < 0) throw Error("an override must look like key=value, e.g. optimizer.learning_rate=0.01");
        var segments = assignment[..equals].Trim().Split('.');
        if (segments.Any(s => s.Trim().Length == 0)) throw Error($"'{assignment[..equals]}' is not a dotted key path, e.g. data.augment.rotation");
        if (segments.Length > BoundedYaml.MaxDepth) throw Error($"the key path has {segments.Length} parts; a recipe nests at most {BoundedYaml.MaxDepth} deep");

        YamlNode value = ParseValue(assignment[(equals + 1)..], Error);
        MarkAll(value, assignment, origins);

        YamlNode parent = root;
        for (int i = 0; i < segments.Length; i++)
        {
            string segment = segments[i].Trim();
            bool last = i == segments.Length - 1;
            string where = string.Join('.', segments[..i]);
            switch (parent)
            {
                case YamlMappingNode mapping:
                    var key = mapping.Children.Keys.FirstOrDefault(k => k is YamlScalarNode { Value: var name } && name == segment);
                    if (key is null)
                    {
                        key = new YamlScalarNode(segment);
                        origins[key] = assignment;
                    }
                    var child = last ? value : mapping.Children.TryGetValue(key, out var existing) && !YamlValue.IsNull(existing) ? existing : NewMapping(assignment, origins);
                    mapping.Children[key] = child;
                    parent = child;
                    break;
                case YamlSequenceNode sequence:
                    if (!int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index >= sequence.Children.Count)
                        throw Error($"{where} is a list of {sequence.Children.Count} items; '{segment}' is not an index into it");
                    if (last) sequence.Children[index] = value;
                    parent = sequence.Children[index];
                    break;
                default:
                    throw Error($"{where} is a single value, so it has no '{segment}'");
            }
        }
    }

    private static YamlNode ParseValue(string text, Func<string, RecipeException> error)
    {
        var stream = BoundedYaml.Load(text, (_, reason) => error($"the value: {reason}"));
        if (stream.Documents.Count > 1) throw error("the value is more than one YAML document (a second '---'); give one value");
        return stream.Documents.Count == 0 ? new YamlScalarNode("") : stream.Documents[0].RootNode;
    }

    private static YamlMappingNode NewMapping(string assignment, Dictionary<YamlNode, string> origins)
    {
        var mapping = new YamlMappingNode();
        origins[mapping] = assignment;
        return mapping;
    }

    private static void MarkAll(YamlNode node, string assignment, Dictionary<YamlNode, string> origins)
    {
        foreach (var descendant in node.AllNodes) origins[descendant] = assignment;
    }
}
