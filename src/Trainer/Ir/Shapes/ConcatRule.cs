namespace OnnxTrainer.Ir.Shapes;

/// <summary>Concat along an axis: sizes there add up; the other dimensions must agree.</summary>
internal sealed class ConcatRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = Enumerable.Range(0, c.InputCount).Select(c.ElementType).FirstOrDefault(t => t != DataType.Undefined);
        var shapes = Enumerable.Range(0, c.InputCount).Select(c.Shape).ToArray();
        var first = shapes.FirstOrDefault(s => s is not null);
        if (first is null) return c.Outputs(new TensorType(type, null));
        int rank = first.Count;
        int axis = c.Axis(c.Int("axis", 0), rank);
        var dims = new Dim[rank];
        for (int d = 0; d < rank; d++)
        {
            if (d == axis)
            {
                dims[d] = shapes.Any(s => s is null) ? Dim.Unknown : Sum(shapes.Select(s => s![d]));
                continue;
            }
            dims[d] = Dim.Unknown;
            foreach (var shape in shapes)
            {
                if (shape is null) continue;
                if (shape.Count != rank) throw c.Error($"inputs have ranks {rank} and {shape.Count}");
                var dim = shape[d];
                if (dims[d].IsKnown && dim.IsKnown && dims[d].Value != dim.Value)
                    throw c.Error($"inputs differ on axis {d}: {dims[d]} and {dim}");
                if (dim.IsKnown || !dims[d].IsKnown && dim.Symbol is not null) dims[d] = dim;
            }
        }
        return c.Outputs(new TensorType(type, dims));
    }

    /// <summary>Sum of sizes; a single symbol plus zeros stays that symbol.</summary>
    private static Dim Sum(IEnumerable<Dim> dims)
    {
        var nonZero = dims.Where(d => d.Value != 0).ToList();
        if (nonZero.Count == 1) return nonZero[0];
        return nonZero.All(d => d.IsKnown) ? Dim.Known(nonZero.Sum(d => d.Value!.Value)) : Dim.Unknown;
    }

    public SymbolicTensor? Evaluate(ShapeContext c)
    {
        var inputs = Enumerable.Range(0, c.InputCount).Select(c.Data).ToArray();
        if (inputs.Length == 0 || inputs.Any(i => i is null)) return null;
        var first = inputs[0]!;
        int axis = c.Axis(c.Int("axis", 0), first.Rank);
        long outer = Tensor.ElementCount(first.Dims[..axis]);
        var elements = new List<SymbolicInt>();
        for (long o = 0; o < outer; o++)
            foreach (var input in inputs)
            {
                int chunk = (int)Tensor.ElementCount(input!.Dims[axis..]);
                elements.AddRange(input.Elements.AsSpan((int)(o * chunk), chunk));
            }
        var dims = (long[])first.Dims.Clone();
        dims[axis] = inputs.Sum(i => i!.Dims[axis]);
        return SymbolicTensor.Create(first.ElementType, dims, [.. elements]);
    }
}
