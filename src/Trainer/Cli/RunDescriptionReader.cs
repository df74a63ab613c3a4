using OnnxTrainer.Artifacts;
using OnnxTrainer.Inference;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Reports;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace OnnxTrainer.Cli;

/// <summary>
/// Reads the <see cref="RunDescription"/> of an exported model: the recipe travels in its metadata, and the new head's
/// parameters are those under <c>head.</c>, the rest the backbone's.
/// </summary>
internal static class RunDescriptionReader
{
    /// <summary>The summary of the run that exported <paramref name="modelPath"/>; null for a model without a readable recipe (not made by onnx-trainer).</summary>
    /// <exception cref="ModelFormatException">Not a readable ONNX file.</exception>
    public static RunDescription? Read(string modelPath)
    {
        var model = ModelReader.Load(modelPath);
        if (model.GetMetadata(ClassifierMetadata.Recipe) is not { } recipe || Root(recipe) is not { } root) return null;
        var backbone = Child(root, "backbone");
        string name = Scalar(backbone, "path") is { } path ? Path.GetFileName(path) : Scalar(Child(backbone, "architecture"), "name") ?? "?";
        long head = 0, all = 0;
        foreach (var parameter in Parameters.Of(model.Graph))
        {
            long count = parameter.Initializer!.ElementCount();
            all += count;
            if (parameter.Name.StartsWith(ClassifierHeadBuilder.Prefix + ".", StringComparison.Ordinal)) head += count;
        }
        return new RunDescription(Scalar(root, "name"), Scalar(root, "strategy"), name, all - head, head, Scalar(backbone, "cut") ?? "head", recipe);
    }

    private static YamlMappingNode? Root(string recipe)
    {
        try
        {
            var yaml = new YamlStream();
            yaml.Load(new StringReader(recipe));
            return yaml.Documents.Count > 0 ? yaml.Documents[0].RootNode as YamlMappingNode : null;
        }
        catch (YamlException)
        {
            return null;
        }
    }

    private static YamlNode? Child(YamlNode? node, string key) =>
        node is YamlMappingNode mapping && mapping.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    private static string? Scalar(YamlNode? node, string key) => (Child(node, key) as YamlScalarNode)?.Value;
}
