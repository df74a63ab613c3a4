using System.Text;

namespace OnnxTrainer.Ir.Shapes;

/// <summary>Constant, in any of its value forms.</summary>
internal sealed class ConstantRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        if (ValueOf(c.Node) is { } tensor) return c.Outputs(tensor.Type);
        if (c.Node.Attributes.TryGetValue("sparse_value", out var sparse) && sparse.Opaque?.SparseTensor is { } s)
            return c.Outputs(TensorType.Of((DataType)(s.Values?.DataType ?? 0), [.. s.Dims]));
        throw c.Error("no value attribute");
    }

    public SymbolicTensor? Evaluate(ShapeContext c) => ValueOf(c.Node) is { } tensor ? SymbolicTensor.FromTensor(tensor) : null;

    /// <summary>The dense value of a Constant node; null for a sparse one.</summary>
    public static Tensor? ValueOf(Node node)
    {
        foreach (var a in node.Attributes.Values)
        {
            switch (a.Name)
            {
                case "value": return a.T;
                case "value_float": return Tensor.Scalar(a.F);
                case "value_floats": return Tensor.FromFloats([a.Floats.Count], [.. a.Floats]);
                case "value_int": return Tensor.Scalar(a.I);
                case "value_ints": return Tensor.Vector([.. a.Ints]);
                case "value_string": return new Tensor([], [Encoding.UTF8.GetBytes(a.S)]);
                case "value_strings": return new Tensor([a.Strings.Count], a.Strings.Select(Encoding.UTF8.GetBytes).ToArray());
            }
        }
        return null;
    }

    /// <summary>The data of an initializer or of a Constant node's output (exporters emit both); null when computed in the graph.</summary>
    public static Tensor? DataOf(Value v) =>
        v.Initializer ?? (v.Producer is { OpType: "Constant", Domain: "" } p ? ValueOf(p) : null);
}
