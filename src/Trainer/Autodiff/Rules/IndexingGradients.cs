using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

/// <summary>
/// Slice with constant starts/ends/axes/steps: the upstream gradient is put back where the slice came
/// from, zeros elsewhere. Unit-step axes are one Pad; other steps (incl. negative) go through
/// <see cref="AxisScatter.Unique"/>, which avoids both the slow negative-step Slice and a scatter kernel.
/// </summary>
internal sealed class SliceGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var x = c.I(0);
        var shape = c.ShapeOf(x);
        int rank = shape.Count;
        var (starts, ends, axes, steps) = ReadParameters(c, rank);

        var grad = c.GO(0)!;
        var begins = new long[rank];
        var endPads = new long[rank];
        for (int i = 0; i < axes.Length; i++)
        {
            long axis = axes[i];
            long length = shape[(int)axis].Value
                ?? throw new GraphException($"{c.Node}: the extent of axis {axis} of '{x.Name}' must be known to differentiate the slice (got {shape[(int)axis]})");
            var positions = Positions(starts[i], ends[i], steps[i], length);
            if (AxisScatter.IsContiguous(positions))
            {
                (begins[axis], endPads[axis]) = AxisScatter.PadAmounts(positions, length);
            }
            else
            {
                grad = AxisScatter.Unique(c, grad, rank, axis, positions, length);
            }
        }
        if (begins.Any(p => p != 0) || endPads.Any(p => p != 0)) grad = c.Pad(grad, begins, endPads);
        return [grad, .. Enumerable.Repeat<Value?>(null, c.Node.Inputs.Count - 1)];
    }

    private static (long[] Starts, long[] Ends, long[] Axes, long[] Steps) ReadParameters(GradientContext c, int rank)
    {
        long[] starts, ends;
        long[]? axes, steps = null;
        if (c.Opset < 10)
        {
            starts = [.. c.Node.Ints("starts") ?? []];
            ends = [.. c.Node.Ints("ends") ?? []];
            axes = c.Node.Ints("axes") is { } a ? [.. a] : null;
        }
        else
        {
            starts = Constant(c, 1, "starts")!;
            ends = Constant(c, 2, "ends")!;
            axes = Constant(c, 3, "axes");
            steps = Constant(c, 4, "steps");
        }
        axes ??= [.. Enumerable.Range(0, starts.Length).Select(a => (long)a)];
        steps ??= [.. Enumerable.Repeat(1L, starts.Length)];
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw new GraphException($"{c.Node}: starts, ends, axes and steps must have the same length");
        if (steps.Contains(0)) throw new GraphException($"{c.Node}: slice step 0 is invalid");
        return (starts, ends, [.. axes.Select(a => a < 0 ? a + rank : a)], steps);
    }

    private static long[]? Constant(GradientContext c, int index, string what) => c.Node.Input(index) switch
    {
        null => null,
        var v => AxisScatter.ConstantData(v)?.ToInt64s()
            ?? throw new GraphException($"{c.Node}: slice {what} ('{v.Name}') must be a constant to differentiate the slice"),
    };

    /// <summary>The input positions the slice reads along one axis, in output order (ONNX clamping rules).</summary>
    internal static long[] Positions(long start, long end, long step, long length)
    {
        if (start < 0) start += length;
        if (end < 0) end += length;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, length);
            end = Math.Clamp(end, 0, length);
        }
        else
        {
            start = Math.Clamp(start, 0, length - 1);
            end = Math.Clamp(end, -1, length - 1);
        }
        var positions = new List<long>();
        for (long p = start; step > 0 ? p < end : p > end; p += step) positions.Add(p);
        return [.. positions];
    }
}

/// <summary>
/// Gather with constant indices. A scalar index or a contiguous run is a Pad; distinct indices are an
/// inverse Gather (<see cref="AxisScatter.Unique"/>); duplicated indices must accumulate, which takes
/// ScatterElements with reduction="add" (opset 16+) or, before that, a MatMul with a one-hot matrix.
/// </summary>
internal sealed class GatherGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var x = c.I(0);
        var shape = c.ShapeOf(x);
        int rank = shape.Count;
        long axis = c.Attr("axis", 0);
        if (axis < 0) axis += rank;
        long length = shape[(int)axis].Value
            ?? throw new GraphException($"{c.Node}: the extent of axis {axis} of '{x.Name}' must be known to differentiate the gather (got {shape[(int)axis]})");
        var indexTensor = AxisScatter.ConstantData(c.I(1))
            ?? throw new GraphException($"{c.Node}: gather indices ('{c.I(1).Name}') must be a constant to differentiate the gather");
        var indices = indexTensor.ToInt64s();
        for (int k = 0; k < indices.Length; k++)
        {
            if (indices[k] < 0) indices[k] += length;
            if (indices[k] < 0 || indices[k] >= length)
                throw new GraphException($"{c.Node}: gather index {indexTensor.ToInt64s()[k]} is out of range for axis {axis} of extent {length}");
        }

        // Bring the gradient to [pre..., m, post...]: one axis per index, like a 1-D gather.
        var grad = c.GO(0)!;
        int indexRank = indexTensor.Dims.Length;
        if (indexRank == 0) grad = c.Unsqueeze(grad, axis);
        else if (indexRank > 1) grad = c.Reshape(grad, MergedShape(c, grad, shape, rank, (int)axis, indexRank, indices.Length));

        Value dx;
        if (indices.Distinct().Count() == indices.Length) dx = AxisScatter.Unique(c, grad, rank, axis, indices, length);
        else if (c.Opset >= 16) dx = ScatterAdd(c, grad, x, rank, axis, indices);
        else dx = OneHotMatMul(c, grad, x, shape, (int)axis, indices, length);
        return [dx, null];
    }

    /// <summary>The target of the reshape that merges the index axes: static where the trailing extents are known.</summary>
    private static Value MergedShape(GradientContext c, Value grad, IReadOnlyList<Dim> inputShape, int rank, int axis, int indexRank, long count)
    {
        var post = inputShape.Skip(axis + 1).ToList();
        // Reshape's 0 copies the extent at the same position, which is right for the leading axes (a symbolic batch among them).
        if (post.All(d => d.IsKnown))
            return c.Ints([.. Enumerable.Repeat(0L, axis), count, .. post.Select(d => d.Value!.Value)]);
        var gradShape = c.Shape(grad);
        return c.Op("Concat",
            [c.Slice(gradShape, [0], [axis], [0]), c.Ints(count), c.Slice(gradShape, [axis + indexRank], [rank + indexRank - 1], [0])],
            Attribute.Of("axis", 0L));
    }

    private static Value ScatterAdd(GradientContext c, Value grad, Value x, int rank, long axis, long[] indices)
    {
        // ScatterElements wants indices shaped like the updates: a constant broadcast at run time.
        var indexShape = Enumerable.Repeat(1L, rank).ToArray();
        indexShape[axis] = indices.Length;
        var expanded = c.Op("Expand", [c.Constant(Tensor.FromInt64s(indexShape, indices), "indices"), c.Shape(grad)]);
        var zeros = c.Op("ConstantOfShape", [c.Shape(x)], Attribute.Of("value", FloatTensor(c.ElementType(x), [1], [0.0])));
        return c.Op("ScatterElements", [zeros, expanded, grad], Attribute.Of("axis", axis), Attribute.Of("reduction", "add"));
    }

    /// <summary>dX = the gradient contracted with a [m, length] one-hot matrix along the axis; duplicates sum in the MatMul.</summary>
    private static Value OneHotMatMul(GradientContext c, Value grad, Value x, IReadOnlyList<Dim> shape, int axis, long[] indices, long length)
    {
        int m = indices.Length;
        bool last = axis == shape.Count - 1;
        var oneHot = new double[m * length];
        // Last axis: [..., m] x [m, length]. Otherwise [length, m] x [pre..., m, post] (post flattened), broadcast over pre.
        for (int k = 0; k < m; k++) oneHot[last ? k * length + indices[k] : indices[k] * m + k] = 1;
        var matrix = c.Constant(FloatTensor(c.ElementType(x), last ? [m, length] : [length, m], oneHot), "one_hot");
        if (last) return c.MatMul(grad, matrix);
        var flat = c.Reshape(grad, [.. Enumerable.Repeat(0L, axis), m, -1]);
        return c.Reshape(c.MatMul(matrix, flat), c.Shape(x));
    }

    internal static Tensor FloatTensor(DataType type, long[] dims, double[] values) => type switch
    {
        DataType.Double => Tensor.FromDoubles(dims, values),
        DataType.Float => Tensor.FromFloats(dims, Array.ConvertAll(values, v => (float)v)),
        DataType.Float16 => new Tensor(DataType.Float16, dims, System.Runtime.InteropServices.MemoryMarshal.AsBytes(Array.ConvertAll(values, v => (Half)v).AsSpan()).ToArray()),
        _ => throw new GraphException($"gather gradient: unsupported element type {type}"),
    };
}

/// <summary>Where: the gradient flows to X where the condition holds and to Y elsewhere; the condition gets none.</summary>
internal sealed class WhereGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        Value? dx = null, dy = null;
        var zero = c.ScalarLike(0, c.O(0));
        if (c.NeedsGradient(1)) dx = c.SumToShape(c.Op("Where", [c.I(0), c.GO(0), zero]), c.O(0), c.I(1));
        if (c.NeedsGradient(2)) dy = c.SumToShape(c.Op("Where", [c.I(0), zero, c.GO(0)]), c.O(0), c.I(2));
        return [null, dx, dy];
    }
}

/// <summary>Placing a gradient's slices at distinct positions along one axis, zeros elsewhere.</summary>
internal static class AxisScatter
{
    /// <summary>The data of an initializer, or of a Constant node's output (exporters emit both).</summary>
    public static Tensor? ConstantData(Value v) =>
        v.Initializer ?? (v.Producer is { OpType: "Constant" } p ? p.TensorAttribute("value") : null);

    public static bool IsContiguous(long[] positions) =>
        positions.Select((p, k) => p == positions[0] + k).All(ok => ok);

    /// <summary>Pad amounts (before, after) that put a contiguous run back into an axis of the given length.</summary>
    public static (long Begin, long End) PadAmounts(long[] positions, long length) =>
        positions.Length == 0 ? (0, length) : (positions[0], length - positions[0] - positions.Length);

    /// <summary>
    /// Slice k of <paramref name="grad"/> along <paramref name="axis"/> lands at positions[k] (all distinct) of an
    /// axis of <paramref name="length"/>. A contiguous run is a Pad; otherwise one zero slice is padded on and a
    /// Gather with the inverse map reads every destination from its source or from the zero slice: exact (no
    /// accumulation needed), and ORT's Gather copies whole inner blocks.
    /// </summary>
    public static Value Unique(GradientContext c, Value grad, int rank, long axis, long[] positions, long length)
    {
        var begins = new long[rank];
        var ends = new long[rank];
        if (IsContiguous(positions))
        {
            (begins[axis], ends[axis]) = PadAmounts(positions, length);
            return begins[axis] == 0 && ends[axis] == 0 ? grad : c.Pad(grad, begins, ends);
        }
        ends[axis] = 1;
        var padded = c.Pad(grad, begins, ends);
        var inverse = Enumerable.Repeat((long)positions.Length, (int)length).ToArray();
        for (int k = 0; k < positions.Length; k++) inverse[positions[k]] = k;
        return c.Op("Gather", [padded, c.Ints(inverse)], Attribute.Of("axis", axis));
    }
}
