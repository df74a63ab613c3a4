using OnnxTrainer.Ir;
using OnnxTrainer.Ir.Shapes;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Ir.Shapes;

/// <summary>Small helpers to build one- or few-node graphs and read back inferred types as text.</summary>
internal sealed class ShapeTestGraph
{
    public Graph Graph { get; } = new();
    public long Opset { get; }

    public ShapeTestGraph(long opset = 17) => Opset = opset;

    /// <summary>Dimensions from numbers (known), strings (symbols) and null (unknown).</summary>
    public static Dim[] Dims(params object?[] dims) => dims.Select(d => d switch
    {
        null => Dim.Unknown,
        string s => Dim.Named(s),
        _ => Dim.Known(Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture)),
    }).ToArray();

    public Value Input(string name, params object?[] dims) => Graph.AddInput(name, new TensorType(DataType.Float, Dims(dims)));

    public Value Input(string name, DataType type, params object?[] dims) => Graph.AddInput(name, new TensorType(type, Dims(dims)));

    public Value Ints(string name, params long[] values) => Graph.AddInitializer(name, Tensor.Vector(values));

    public Value Weight(string name, params long[] dims) =>
        Graph.AddInitializer(name, Tensor.FromFloats(dims, new float[Tensor.ElementCount(dims)]));

    public Node Add(string op, Value?[] inputs, params Attribute[] attributes) => Add(op, inputs, 1, attributes);

    public Node Add(string op, Value?[] inputs, int outputs, params Attribute[] attributes) =>
        Graph.AddNode(op, inputs, Enumerable.Range(0, outputs).Select(i => $"{op.ToLowerInvariant()}_out{i}"), attributes);

    /// <summary>Runs inference with every node output as a graph output and returns output 0 of <paramref name="node"/>.</summary>
    public string Infer(Node node, int output = 0)
    {
        Run();
        return node.Outputs[output].Type?.ToString() ?? "null";
    }

    public void Run()
    {
        foreach (var n in Graph.Nodes)
            foreach (var o in n.Outputs)
                if (!Graph.Outputs.Contains(o)) Graph.Outputs.Add(o);
        ShapeInference.Run(Graph, Opset);
    }
}
