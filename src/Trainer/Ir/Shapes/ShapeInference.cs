namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// Sets the element type and shape of every node output, keeping symbolic dimensions such as the
/// batch size. Declared types (value_info) are refined, never loosened; a declared shape that
/// contradicts the inferred one is an error, since the model lies about its shapes.
/// </summary>
public static class ShapeInference
{
    public static void Run(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Run(model.Graph, model.OpsetVersion);
    }

    public static void Run(Graph graph, long opset) => Infer(graph, opset);

    /// <summary>Runs inference and returns the small integer values it could compute (for folding).</summary>
    internal static Dictionary<Value, SymbolicTensor> Infer(Graph graph, long opset)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var data = new Dictionary<Value, SymbolicTensor>();
        foreach (var node in graph.TopologicalOrder())
        {
            var rule = ShapeRules.Find(node);
            var context = new ShapeContext(node, opset, data);
            TensorType?[] inferred;
            SymbolicTensor? value;
            try
            {
                inferred = rule.Infer(context);
                value = node.Outputs.Count > 0 ? rule.Evaluate(context) : null;
            }
            catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or OverflowException or InvalidOperationException)
            {
                // Malformed attributes or inputs (untrusted files) surface as one message naming the node.
                throw context.Error(e.Message);
            }
            if (value is not null)
            {
                data[node.Outputs[0]] = value;
                inferred[0] = value.Type;
            }
            for (int i = 0; i < node.Outputs.Count && i < inferred.Length; i++)
            {
                var output = node.Outputs[i];
                output.Type = Merge(node, output, output.Type, inferred[i]);
            }
        }
        return data;
    }

    /// <summary>The more precise of a declared and an inferred type, dimension by dimension.</summary>
    private static TensorType? Merge(Node node, Value value, TensorType? declared, TensorType? inferred)
    {
        if (inferred is null) return declared;
        if (declared is null) return inferred;
        string Where() => $"node '{node.Name}' ({node.OpType}) output '{value.Name}'";
        var elementType = inferred.ElementType;
        if (elementType == DataType.Undefined) elementType = declared.ElementType;
        else if (declared.ElementType != DataType.Undefined && declared.ElementType != elementType)
            throw new GraphException($"{Where()} is declared {declared.ElementType.OnnxName()} but computes {elementType.OnnxName()}");
        if (inferred.Shape is null || declared.Shape is null)
            return new TensorType(elementType, inferred.Shape ?? declared.Shape);
        if (inferred.Shape.Count != declared.Shape.Count)
            throw new GraphException($"{Where()} is declared with shape {declared} but computes {inferred}");
        var dims = new Dim[inferred.Shape.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            Dim d = declared.Shape[i], n = inferred.Shape[i];
            if (d.IsKnown && n.IsKnown && d.Value != n.Value)
                throw new GraphException($"{Where()} is declared with shape {declared} but computes {inferred}");
            dims[i] = n.IsKnown || !d.IsKnown && (n.Symbol is not null || d.Symbol is null) ? n : d;
        }
        return new TensorType(elementType, dims);
    }
}
