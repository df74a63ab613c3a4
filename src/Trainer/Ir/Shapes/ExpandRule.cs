namespace OnnxTrainer.Ir.Shapes;

/// <summary>Expand(input, shape): input broadcast with the requested shape.</summary>
internal sealed class ExpandRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var input = c.Shape(0);
        IReadOnlyList<Dim>? target = c.Data(1) is { } shape ? shape.Elements.Select(e => e.ToDim()).ToArray() : null;
        if (target is null && c.Shape(1) is [{ Value: long length }] && input is not null)
            // Values unknown: the rank is still max(rank, length), every size unknown.
            return c.Outputs(new TensorType(c.ElementType(0), Enumerable.Repeat(Dim.Unknown, (int)Math.Max(input.Count, length)).ToArray()));
        return c.Outputs(new TensorType(c.ElementType(0), DimMath.Broadcast(c, [input, target])));
    }
}
