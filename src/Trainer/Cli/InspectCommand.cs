using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Ir.Surgery;
using OnnxTrainer.Ir.Upgrade;
using OnnxTrainer.Onnx;
using OnnxTrainer.Terminal;
using Spectre.Console;

namespace OnnxTrainer.Cli;

/// <summary><c>onnx-trainer inspect MODEL.onnx</c>: header, inputs/outputs, parameters and FLOPs per layer, the classifier head and the cut points.</summary>
public static class InspectCommand
{
    /// <summary>Largest image side <c>--input-size</c> takes: 32,768 px (1 gigapixel), where FLOPs still fit a long.</summary>
    private const int MaxInputSize = 32_768;

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "ONNX model file" };
        var json = new Option<bool>("--json") { Description = "print JSON instead of tables" };
        var size = new Option<int?>("--input-size") { Description = "image side (pixels) for shapes and FLOPs when the model's input size is not fixed" };
        size.Validators.Add(r =>
        {
            if (r.GetValue(size) is int side && side is < 1 or > MaxInputSize) r.AddError($"--input-size must be 1 to {MaxInputSize} pixels (got {side})");
        });
        var command = new Command("inspect", "Show a model's layers, parameters, FLOPs, classifier head and suggested cut points.") { model, json, size };
        command.SetAction(result => Run(result.GetValue(model)!, result.GetValue(json), result.GetValue(size)));
        return command;
    }

    private static int Run(string path, bool json, int? inputSize)
    {
        var model = ModelReader.Load(path);
        var fileOpsets = OpsetsJson(model);
        long fileIrVersion = model.IrVersion;
        try
        {
            // Layers and shapes are those of the model as training sees it: brought to the working opset.
            OpsetUpgrade.Apply(model);
            FixInputShape(model.Graph, inputSize);
            // Parameters are counted as the model means them, not as the exporter stored them (one tensor for equal ones).
            TiedInitializers.Untie(model.Graph);
            ShapeFolding.Run(model.Graph, model.OpsetVersion);
            ShapeInference.Run(model.Graph, model.OpsetVersion);
        }
        catch (GraphException e)
        {
            // What shape inference finds wrong (a weight that does not fit its input) is wrong in this file.
            throw new ModelFormatException($"{path}: {e.Message}", e);
        }
        var report = Report(model, fileOpsets, fileIrVersion);
        if (json) Console.WriteLine(report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        else Print(path, report);
        return 0;
    }

    /// <summary>Shapes and FLOPs are reported for one image: batch 1, and the requested size where the file leaves it open.</summary>
    private static void FixInputShape(Graph graph, int? inputSize)
    {
        foreach (var input in graph.Inputs)
        {
            if (input.Type?.Shape is not { Count: 4 } shape) continue;
            Dim Side(Dim d) => d.IsKnown ? d : inputSize is int s ? Dim.Known(s) : d;
            input.Type = input.Type with { Shape = [Dim.Known(1), shape[1], Side(shape[2]), Side(shape[3])] };
        }
    }

    private static JsonObject OpsetsJson(Model model) =>
        new(model.Opsets.Select(kv => KeyValuePair.Create(kv.Key.Length == 0 ? "ai.onnx" : kv.Key, (JsonNode?)kv.Value)));

    private static JsonObject Report(Model model, JsonObject fileOpsets, long fileIrVersion)
    {
        var graph = model.Graph;
        var parameters = Parameters.Of(graph).ToHashSet();
        var layers = new JsonArray();
        long totalFlops = 0;
        foreach (var node in graph.TopologicalOrder())
        {
            long count = node.Inputs.Where(i => i is not null && parameters.Contains(i)).Distinct().Sum(i => i!.Initializer!.ElementCount());
            long? flops = Flops.Of(node);
            totalFlops += flops ?? 0;
            if (count == 0 && flops is null) continue;
            layers.Add(new JsonObject
            {
                ["name"] = node.Name, ["op"] = node.OpType, ["output_shape"] = node.Output().Type?.ToString(),
                ["parameters"] = count, ["flops"] = flops,
            });
        }
        var head = ClassifierHead.Find(graph);
        return new JsonObject
        {
            ["producer"] = $"{model.ProducerName} {model.ProducerVersion}".Trim(),
            ["ir_version"] = fileIrVersion,
            ["opsets"] = fileOpsets,
            ["working_opset"] = model.OpsetVersion,
            ["inputs"] = new JsonArray([.. graph.Inputs.Select(ValueJson)]),
            ["outputs"] = new JsonArray([.. graph.Outputs.Select(ValueJson)]),
            ["parameters"] = Parameters.Count(graph),
            ["flops"] = totalFlops,
            ["layers"] = layers,
            ["head"] = head is null ? null : new JsonObject
            {
                ["nodes"] = new JsonArray([.. head.Nodes.Select(n => (JsonNode?)n.Name)]),
                ["features"] = ValueJson(head.Features),
                ["classes"] = head.Classes,
            },
            ["cut_points"] = new JsonArray([.. CutPoint.Find(graph).Select(p => (JsonNode?)new JsonObject
            {
                ["index"] = p.Index, ["tensor"] = p.Value.Name, ["after"] = p.Producer.Name, ["shape"] = p.Value.Type?.ToString(),
            })]),
        };
    }

    private static JsonNode ValueJson(Value v) => new JsonObject { ["name"] = v.Name, ["type"] = v.Type?.ToString() };

    private static void Print(string path, JsonObject report)
    {
        var console = AnsiConsole.Console;
        console.Write(new Rule($"[bold]{TerminalText.Markup(Path.GetFileName(path))}[/]").LeftJustified());
        console.MarkupLine($"producer [bold]{Text(report["producer"])}[/], IR {report["ir_version"]}, opsets {TerminalText.Markup(report["opsets"]!.ToJsonString())}, trained at ai.onnx opset {report["working_opset"]}");
        foreach (var kind in new[] { "inputs", "outputs" })
            foreach (var v in report[kind]!.AsArray())
                console.MarkupLine($"{kind[..^1]} [bold]{Text(v!["name"])}[/] {Text(v["type"])}");
        console.MarkupLine($"parameters [bold]{(long)report["parameters"]!:N0}[/], FLOPs per image [bold]{(long)report["flops"]!:N0}[/] (2 x MACs of conv/linear layers)");

        var layers = new Table().AddColumns("layer", "op", "output", "parameters", "FLOPs");
        foreach (var layer in report["layers"]!.AsArray())
            layers.AddRow(Text(layer!["name"]), Text(layer["op"]), Text(layer["output_shape"]),
                $"{(long)layer["parameters"]!:N0}", layer["flops"] is { } f ? $"{(long)f:N0}" : "");
        console.Write(layers);

        if (report["head"] is JsonObject head)
            console.MarkupLine($"classifier head: [bold]{TerminalText.Markup(string.Join(", ", head["nodes"]!.AsArray()))}[/] reading {Text(head["features"]!["name"])} {Text(head["features"]!["type"])}, {head["classes"]} classes");
        else console.MarkupLine("classifier head: [yellow]none found[/] (the model ends in neither a linear layer nor a convolution with global pooling; where it ends in features, cut: head keeps the whole graph)");

        var cuts = new Table().AddColumns("cut", "tensor", "after node", "shape");
        foreach (var cut in report["cut_points"]!.AsArray())
            cuts.AddRow(cut!["index"]!.ToString(), Text(cut["tensor"]), Text(cut["after"]), Text(cut["shape"]));
        console.Write(cuts);
    }

    /// <summary>A name or shape from the model, as markup-safe terminal text ("?" where unknown).</summary>
    private static string Text(JsonNode? value) => TerminalText.Markup(value?.ToString() ?? "?");
}
