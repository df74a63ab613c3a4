using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace OnnxTrainer.Recipes;

/// <summary>
/// One node of the recipe with its dotted path, read as the type a field wants. Numbers and booleans must be
/// plain scalars, so a quoted "12" stays a string (a tensor name, say) and never silently becomes a number.
/// </summary>
internal readonly record struct YamlValue(RecipeDocument Document, YamlNode Node, string Path)
{
    public static string TextOf(YamlNode node) => node switch
    {
        YamlScalarNode scalar => scalar.Value ?? "",
        YamlSequenceNode => "a list",
        _ => "a mapping",
    };

    /// <summary>YAML's null: an empty plain scalar, <c>~</c> or <c>null</c>; a recipe treats it as "not set".</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

    public string Text => TextOf(Node);

    public RecipeException Error(string reason) => Document.Error(Node, reason);

    /// <summary>Fails with "PATH REQUIREMENT (got VALUE)" unless <paramref name="satisfied"/>.</summary>
    public void Require(bool satisfied, string requirement)
    {
        if (!satisfied) throw Error($"{Path} {requirement} (got {Text})");
    }

    public string String()
    {
        if (Node is not YamlScalarNode { Value: { Length: > 0 } value }) throw Error($"{Path} must be a non-empty string (got {Text})");
        return value;
    }

    public bool IsInt => int.TryParse(Plain(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);

    public int Int()
    {
        Require(int.TryParse(Plain(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value), "must be an integer");
        return value;
    }

    public double Double()
    {
        Require(double.TryParse(Plain(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value), "must be a number");
        return value;
    }

    public bool IsBool => Plain() is "true" or "True" or "TRUE" or "false" or "False" or "FALSE";

    public bool Bool()
    {
        Require(IsBool, "must be true or false");
        return Plain() is "true" or "True" or "TRUE";
    }

    public T Enum<T>(IReadOnlyDictionary<string, T> names)
    {
        var text = String();
        if (names.TryGetValue(text, out var value)) return value;
        throw Error($"{Path} must be one of {string.Join(", ", names.Keys)} (got {text}){DidYouMean(text, names.Keys)}");
    }

    public IReadOnlyList<YamlValue> Items()
    {
        if (Node is not YamlSequenceNode sequence) throw Error($"{Path} must be a list (got {Text})");
        var path = Path;
        var document = Document;
        return sequence.Children.Select((item, i) => new YamlValue(document, item, $"{path}.{i}")).ToList();
    }

    /// <summary>A list of exactly <paramref name="count"/> items, else "PATH REQUIREMENT (got VALUE)".</summary>
    public IReadOnlyList<YamlValue> Tuple(int count, string requirement)
    {
        var items = Node is YamlSequenceNode ? Items() : [];
        Require(items.Count == count, requirement);
        return items;
    }

    /// <summary>A non-empty list of items read by <paramref name="read"/>, with no item twice.</summary>
    public IReadOnlyList<T> DistinctList<T>(Func<YamlValue, T> read)
    {
        var items = Items();
        Require(items.Count > 0, "must list at least one item");
        var values = new List<T>(items.Count);
        foreach (var item in items)
        {
            var value = read(item);
            if (values.Contains(value)) throw item.Error($"{item.Path} repeats {item.Text}");
            values.Add(value);
        }
        return values;
    }

    public MappingReader Mapping(IReadOnlyList<string> keys)
    {
        if (Node is not YamlMappingNode mapping) throw Error($"{Path} must be a mapping of keys (got {Text})");
        return new MappingReader(Document, mapping, Path, keys);
    }

    private string? Plain() => Node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: { } value } ? value : null;

    private static string DidYouMean(string given, IEnumerable<string> names) =>
        KeySuggestion.Closest(given, names) is { } match ? $"; did you mean {match}?" : "";
}
