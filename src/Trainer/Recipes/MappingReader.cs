using YamlDotNet.RepresentationModel;

namespace OnnxTrainer.Recipes;

/// <summary>
/// A recipe mapping whose keys are checked against the ones its section allows (unknown keys are errors with a
/// "did you mean"); values are looked up by key and read through <see cref="YamlValue"/>. A null value counts as unset.
/// </summary>
internal sealed class MappingReader
{
    private readonly RecipeDocument document;
    private readonly YamlMappingNode node;
    private readonly string path;

    public MappingReader(RecipeDocument document, YamlMappingNode node, string path, IReadOnlyList<string> keys)
    {
        (this.document, this.node, this.path) = (document, node, path);
        foreach (var key in node.Children.Keys)
        {
            if (key is not YamlScalarNode { Value: { } name }) throw document.Error(key, $"keys must be plain names (got {YamlValue.TextOf(key)})");
            if (!keys.Contains(name))
                throw document.Error(key, $"unknown key '{PathOf(name)}'{KeySuggestion.Hint(name, keys)}");
        }
    }

    public string PathOf(string key) => path.Length == 0 ? key : $"{path}.{key}";

    /// <summary>The value under <paramref name="key"/>, or null when the key is absent or its value is YAML null.</summary>
    public YamlValue? Get(string key)
    {
        foreach (var (k, v) in node.Children)
            if (((YamlScalarNode)k).Value == key)
                return YamlValue.IsNull(v) ? null : new YamlValue(document, v, PathOf(key));
        return null;
    }

    public bool Has(string key) => Get(key) is not null;

    /// <param name="detail">Appended to "PATH is required", e.g. "for kind idx".</param>
    public YamlValue Required(string key, string? detail = null) =>
        Get(key) ?? throw document.Error(node, $"{PathOf(key)} is required{(detail is null ? "" : $" {detail}")}");

    /// <summary>An error at the key's value when it is set, else at this mapping.</summary>
    public RecipeException Error(string key, string reason) => Get(key) is { } value ? value.Error(reason) : document.Error(node, reason);

    /// <summary>Rejects a key that has no meaning in this configuration, e.g. momentum for AdamW.</summary>
    public void Forbid(string key, string reason)
    {
        if (Get(key) is { } value) throw value.Error($"{PathOf(key)} {reason}");
    }

    public string? String(string key) => Get(key)?.String();
    public int? Int(string key) => Get(key)?.Int();
    public double? Double(string key) => Get(key)?.Double();
    public bool? Bool(string key) => Get(key)?.Bool();
    public T? Enum<T>(string key, IReadOnlyDictionary<string, T> names) where T : struct => Get(key)?.Enum(names);
    public MappingReader? Mapping(string key, IReadOnlyList<string> keys) => Get(key)?.Mapping(keys);

    /// <summary>Fails with "PATH REQUIREMENT (got VALUE)" when the key is set and <paramref name="satisfied"/> is false; defaults are valid by construction.</summary>
    public void Require(string key, bool satisfied, string requirement) => Get(key)?.Require(satisfied, requirement);
}
