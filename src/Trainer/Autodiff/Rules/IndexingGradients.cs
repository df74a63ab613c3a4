using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

/// <summary>
/// Slice with constant starts/ends/axes/steps: the upstream gradient is put back where the slice came
/// from, zeros elsewhere. Unit-step axes together are one Pad; other steps (incl. negative) go through
/// <see cref="AxisScatter.Place"/>, which avoids the slow negative-step Slice.
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
        var current = c.ShapeOf(c.O(0)).ToArray();
        var begins = new long[rank];
        var endPads = new long[rank];
        for (int i = 0; i < axes.Length; i++)
        {
            long axis = axes[i];
            // Some exporters list a whole-range slice on the (symbolic) batch axis; it moves nothing.
            if (steps[i] == 1 && starts[i] == 0 && ends[i] >= int.MaxValue) continue;
            long length = shape[(int)axis].Value
                ?? throw new GraphException($"{c.Node}: the extent of axis {axis} of '{x.Name}' must be known to differentiate the slice (got {shape[(int)axis]})");
            var positions = Positions(starts[i], ends[i], steps[i], length);
            if (AxisScatter.IsContiguous(positions))
            {
                (begins[axis], endPads[axis]) = AxisScatter.PadAmounts(positions, length);
            }
            else
            {
                grad = AxisScatter.Place(c, grad, current, axis, positions, length);
                current[axis] = length;
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
        var v => GradientContext.ConstantData(v)?.ToInt64s()
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
/// Gather with constant indices: the upstream gradient's slices are placed back at the indices, and
/// duplicated indices accumulate (<see cref="AxisScatter.Place"/>). A scalar index is an Unsqueeze and a Pad.
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
        var indexTensor = GradientContext.ConstantData(c.I(1))
            ?? throw new GraphException($"{c.Node}: gather indices ('{c.I(1).Name}') must be a constant to differentiate the gather");
        var indices = indexTensor.ToInt64s();
        for (int k = 0; k < indices.Length; k++)
        {
            if (indices[k] < 0) indices[k] += length;
            if (indices[k] < 0 || indices[k] >= length)
                throw new GraphException($"{c.Node}: gather index {indexTensor.ToInt64s()[k]} is out of range for axis {axis} of extent {length}");
        }

        // Bring the gradient to [pre..., m, post...]: one axis for all the indices, as if they were 1-D.
        var grad = c.GO(0)!;
        int indexRank = indexTensor.Dims.Length;
        if (indexRank == 0) grad = c.Unsqueeze(grad, axis);
        else if (indexRank > 1)
        {
            var merged = shape.ToArray();
            merged[axis] = indices.Length;
            grad = c.Reshape(grad, AxisScatter.ShapeValue(c, grad, merged, from: (int)axis, skip: indexRank));
        }
        var gradShape = shape.ToArray();
        gradShape[axis] = indices.Length;
        return [AxisScatter.Place(c, grad, gradShape, axis, indices, length), null];
    }
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

/// <summary>
/// Places a gradient's slices along one axis at given positions of a longer axis, zeros elsewhere, summing
/// slices that land on the same position. The formulation is picked by what ONNX Runtime's CPU kernels were
/// measured to do well (float32, 2 threads, [16, 64, 56, 56]-sized outputs):
/// <list type="bullet">
/// <item>a contiguous run is a Pad (~1 ms);</item>
/// <item>on the innermost axis, Gather and Pad copy element by element (20-50 ms), while a MatMul with a
/// one-hot [m, length] matrix is ~1 ms for m up to a few hundred, and exact (one nonzero term per sum);</item>
/// <item>on other axes, Pad one zero slice and Gather with the inverse map (~0.5 ms; Gather copies whole
/// blocks); duplicates take one such Gather per occurrence rank, summed, because ScatterElements with
/// reduction="add" (~40 ms) and a broadcast one-hot MatMul (~12 ms) are far slower;</item>
/// <item>heavily repeated positions fall back to ScatterElements add (opset 16+) or the one-hot MatMul.</item>
/// </list>
/// </summary>
internal static class AxisScatter
{
    /// <summary>Above this many slices the one-hot MatMul's cost per output (m multiply-adds) exceeds a Gather's.</summary>
    private const int OneHotLimit = 256;
    /// <summary>Above this many repeats of one position, per-occurrence Gathers cost more than one scatter.</summary>
    private const int OccurrenceLimit = 4;

    public static bool IsContiguous(long[] positions) =>
        positions.Select((p, k) => p == positions[0] + k).All(ok => ok);

    /// <summary>Pad amounts (before, after) that put a contiguous run back into an axis of the given length.</summary>
    public static (long Begin, long End) PadAmounts(long[] positions, long length) =>
        positions.Length == 0 ? (0, length) : (positions[0], length - positions[0] - positions.Length);

    /// <summary>
    /// Slice k of <paramref name="grad"/> (shaped <paramref name="shape"/>) along <paramref name="axis"/> is added
    /// at positions[k] of an axis of <paramref name="length"/>.
    /// </summary>
    public static Value Place(GradientContext c, Value grad, IReadOnlyList<Dim> shape, long axis, long[] positions, long length)
    {
        int rank = shape.Count, m = positions.Length;
        var type = c.ElementType(c.I(0));
        var occurrences = positions.GroupBy(p => p).Select(g => g.Count()).DefaultIfEmpty(0).Max();
        if (occurrences <= 1 && IsContiguous(positions))
        {
            var begins = new long[rank];
            var ends = new long[rank];
            (begins[axis], ends[axis]) = PadAmounts(positions, length);
            return begins[axis] == 0 && ends[axis] == 0 ? grad : c.Pad(grad, begins, ends);
        }
        if (axis == rank - 1 && m <= OneHotLimit)
            return c.MatMul(grad, c.Constant(OneHot(type, positions, length, transposed: false), "one_hot"));
        if (occurrences <= OccurrenceLimit)
        {
            var padEnds = new long[rank];
            padEnds[axis] = 1;
            var padded = c.Pad(grad, new long[rank], padEnds);
            var seen = new Dictionary<long, int>();
            var inverses = new List<long[]>();
            for (int k = 0; k < m; k++)
            {
                int occurrence = seen[positions[k]] = seen.GetValueOrDefault(positions[k]) + 1;
                if (inverses.Count < occurrence) inverses.Add(Enumerable.Repeat((long)m, (int)length).ToArray());
                inverses[occurrence - 1][positions[k]] = k;
            }
            return c.Sum([.. inverses.Select(inverse => c.Op("Gather", [padded, c.Ints(inverse)], Attribute.Of("axis", axis)))]);
        }
        var target = shape.ToArray();
        target[axis] = length;
        if (c.Opset >= 16 && m > OneHotLimit)
        {
            // ScatterElements wants indices shaped like the updates: a constant broadcast at run time.
            var indexShape = Enumerable.Repeat(1L, rank).ToArray();
            indexShape[axis] = m;
            var indices = c.Op("Expand", [c.Constant(Tensor.FromInt64s(indexShape, positions), "indices"), c.Shape(grad)]);
            var zeros = c.Op("ConstantOfShape", [ShapeValue(c, grad, target, (int)axis, 1)], Attribute.Of("value", Tensor.FromReals(type, [1], [0.0])));
            return c.Op("ScatterElements", [zeros, indices, grad], Attribute.Of("axis", axis), Attribute.Of("reduction", "add"));
        }
        // [length, m] x [pre..., m, post] (post flattened) broadcasts the matrix over the leading axes.
        var flat = c.Reshape(grad, [.. Enumerable.Repeat(0L, (int)axis), m, -1]);
        var product = c.MatMul(c.Constant(OneHot(type, positions, length, transposed: true), "one_hot"), flat);
        return c.Reshape(product, ShapeValue(c, grad, target, (int)axis, 1));
    }

    /// <summary>
    /// A shape input for Reshape/ConstantOfShape: <paramref name="target"/>, where the axes from
    /// <paramref name="from"/> replace <paramref name="skip"/> axes of <paramref name="like"/>. Static when every
    /// extent from there on is known; a symbolic extent before it is copied by Reshape's 0, so only a symbolic
    /// extent after it needs the run-time shape.
    /// </summary>
    public static Value ShapeValue(GradientContext c, Value like, IReadOnlyList<Dim> target, int from, int skip)
    {
        if (target.All(d => d.IsKnown)) return c.Ints([.. target.Select(d => d.Value!.Value)]);
        var tail = target.Skip(from + 1).ToList();
        var head = c.Slice(c.Shape(like), [0], [from], [0]);
        var after = tail.All(d => d.IsKnown)
            ? c.Ints([target[from].Value!.Value, .. tail.Select(d => d.Value!.Value)])
            : c.Op("Concat", [c.Ints(target[from].Value!.Value), c.Slice(c.Shape(like), [from + skip], [long.MaxValue], [0])], Attribute.Of("axis", 0L));
        return c.Op("Concat", [head, after], Attribute.Of("axis", 0L));
    }

    /// <summary>One-hot rows: [m, length] with row k hot at positions[k], or its transpose.</summary>
    private static Tensor OneHot(DataType type, long[] positions, long length, bool transposed)
    {
        int m = positions.Length;
        var data = new double[m * length];
        for (int k = 0; k < m; k++) data[transposed ? positions[k] * m + k : k * length + positions[k]] = 1;
        return Tensor.FromReals(type, transposed ? [length, m] : [m, length], data);
    }
}
