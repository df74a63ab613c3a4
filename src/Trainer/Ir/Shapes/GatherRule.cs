namespace OnnxTrainer.Ir.Shapes;

/// <summary>Gather(data, indices) along an axis: data[:axis] + indices.shape + data[axis+1:].</summary>
internal sealed class GatherRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        if (c.Shape(0) is not { } data || c.Shape(1) is not { } indices) return c.Outputs(new TensorType(type, null));
        int axis = c.Axis(c.Int("axis", 0), data.Count);
        return c.Outputs(new TensorType(type, [.. data.Take(axis), .. indices, .. data.Skip(axis + 1)]));
    }

    public SymbolicTensor? Evaluate(ShapeContext c)
    {
        if (c.Data(0) is not { } data || c.Data(1) is not { } indices || indices.KnownValues is not { } picks) return null;
        int axis = c.Axis(c.Int("axis", 0), data.Rank);
        long size = data.Dims[axis];
        int inner = (int)Tensor.ElementCount(data.Dims[(axis + 1)..]);
        long outer = Tensor.ElementCount(data.Dims[..axis]);
        var elements = new List<SymbolicInt>();
        for (long o = 0; o < outer; o++)
            foreach (long pick in picks)
            {
                if (pick < -size || pick >= size) throw c.Error($"index {pick} is out of range for size {size}");
                long at = (o * size + (pick < 0 ? pick + size : pick)) * inner;
                elements.AddRange(data.Elements.AsSpan((int)at, inner));
            }
        return SymbolicTensor.Create(data.ElementType, [.. data.Dims[..axis], .. indices.Dims, .. data.Dims[(axis + 1)..]], [.. elements]);
    }
}
