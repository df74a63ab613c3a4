namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// Slice with starts, ends, axes and steps (attributes in opset 1, inputs from 10). Negative
/// indices count from the end and out-of-range ones are clamped, as the specification says.
/// </summary>
internal sealed class SliceRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        if (c.Shape(0) is not { } x) return c.Outputs(new TensorType(type, null));
        var dims = x.ToArray();
        if (Parameters(c, x.Count) is not { } p)
        {
            // Unknown bounds: the sliced axes (all, when the axes are unknown too) have unknown sizes.
            var axes = c.Opset >= 10 ? (c.Has(3) ? c.Ints(3) : null) : c.Ints("axes");
            for (int i = 0; i < dims.Length; i++)
                if (axes is null || axes.Any(a => c.Axis(a, x.Count) == i)) dims[i] = Dim.Unknown;
            return c.Outputs(new TensorType(type, dims));
        }
        for (int i = 0; i < p.Axes.Length; i++)
        {
            int axis = p.Axes[i];
            if (x[axis].Value is long n) dims[axis] = Dim.Known(Range(n, p.Starts[i], p.Ends[i], p.Steps[i]).Count);
            // A whole-axis slice keeps a symbolic size.
            else if (!(p.Starts[i] == 0 && p.Steps[i] == 1 && p.Ends[i] >= int.MaxValue)) dims[axis] = Dim.Unknown;
        }
        return c.Outputs(new TensorType(type, dims));
    }

    public SymbolicTensor? Evaluate(ShapeContext c)
    {
        if (c.Data(0) is not { } data || Parameters(c, data.Rank) is not { } p) return null;
        int rank = data.Rank;
        var start = new long[rank];
        var step = Enumerable.Repeat(1L, rank).ToArray();
        var dims = (long[])data.Dims.Clone();
        for (int i = 0; i < p.Axes.Length; i++)
        {
            int axis = p.Axes[i];
            (start[axis], dims[axis]) = Range(data.Dims[axis], p.Starts[i], p.Ends[i], p.Steps[i]);
            step[axis] = p.Steps[i];
        }
        long count = Tensor.ElementCount(dims);
        var elements = new SymbolicInt[count];
        var index = new long[rank];
        for (long flat = 0; flat < count; flat++)
        {
            long source = 0;
            for (int d = 0; d < rank; d++) source = source * data.Dims[d] + start[d] + index[d] * step[d];
            elements[flat] = data.Elements[source];
            for (int d = rank - 1; d >= 0 && ++index[d] == dims[d]; d--) index[d] = 0;
        }
        return SymbolicTensor.Create(data.ElementType, dims, elements);
    }

    private sealed record Slicing(long[] Starts, long[] Ends, int[] Axes, long[] Steps);

    /// <summary>The slicing parameters when all are known; axes normalized.</summary>
    private static Slicing? Parameters(ShapeContext c, int rank)
    {
        IReadOnlyList<long>? starts, ends, axes, steps;
        if (c.Opset >= 10)
        {
            (starts, ends) = (c.Ints(1), c.Ints(2));
            axes = c.Has(3) ? c.Ints(3) : null;
            steps = c.Has(4) ? c.Ints(4) : null;
            if (starts is null || ends is null || c.Has(3) && axes is null || c.Has(4) && steps is null) return null;
        }
        else
        {
            (starts, ends, axes, steps) = (c.Ints("starts"), c.Ints("ends"), c.Ints("axes"), null);
            if (starts is null || ends is null) throw c.Error("starts and ends are required");
        }
        if (ends.Count != starts.Count || axes is not null && axes.Count != starts.Count || steps is not null && steps.Count != starts.Count)
            throw c.Error("starts, ends, axes and steps differ in length");
        var normalized = axes is null ? Enumerable.Range(0, starts.Count).ToArray() : axes.Select(a => c.Axis(a, rank)).ToArray();
        if (normalized.Distinct().Count() != normalized.Length) throw c.Error("axes repeat");
        var stepValues = steps?.ToArray() ?? Enumerable.Repeat(1L, starts.Count).ToArray();
        if (stepValues.Contains(0)) throw c.Error("steps cannot be 0");
        return new Slicing([.. starts], [.. ends], normalized, stepValues);
    }

    /// <summary>First index and element count of a slice of an axis of size <paramref name="n"/>.</summary>
    private static (long Start, long Count) Range(long n, long start, long end, long step)
    {
        if (n == 0) return (0, 0);
        if (start < 0) start += n;
        if (end < 0) end += n;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, n);
            end = Math.Clamp(end, 0, n);
            return (start, Math.Max(0, DimMath.CeilDiv(end - start, step)));
        }
        start = Math.Clamp(start, 0, n - 1);
        end = Math.Clamp(end, -1, n - 1);
        return (start, Math.Max(0, DimMath.CeilDiv(start - end, -step)));
    }
}
