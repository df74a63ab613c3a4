using OnnxTrainer.Ir;

namespace OnnxTrainer.Autodiff.Rules;

/// <summary>
/// The static geometry of one Conv node, per spatial axis, with auto_pad resolved to explicit
/// begin/end pads so the backward formulations need only one padding model.
/// </summary>
internal sealed class ConvGeometry
{
    public required int Rank { get; init; }
    public required long Group { get; init; }
    public required long InChannels { get; init; }
    public required long OutChannels { get; init; }
    public required long[] Kernel { get; init; }
    public required long[] Strides { get; init; }
    public required long[] Dilations { get; init; }
    public required long[] PadsBegin { get; init; }
    public required long[] PadsEnd { get; init; }
    /// <summary>Spatial input sizes; null where not statically known.</summary>
    public required long?[] InSize { get; init; }
    /// <summary>Spatial output sizes; null where not statically known.</summary>
    public required long?[] OutSize { get; init; }

    public long InGroupChannels => InChannels / Group;
    public long OutGroupChannels => OutChannels / Group;

    /// <summary>Distance from the first to the last input element one kernel window reads: d(k-1).</summary>
    public long Reach(int axis) => Dilations[axis] * (Kernel[axis] - 1);

    public bool IsPointwise => Kernel.All(k => k == 1) && PadsBegin.All(p => p == 0) && PadsEnd.All(p => p == 0);

    public bool HasPads => PadsBegin.Any(p => p != 0) || PadsEnd.Any(p => p != 0);

    public long PaddedSize(int axis, Node node) => In(axis, node) + PadsBegin[axis] + PadsEnd[axis];

    /// <summary>Padded input elements past the last window (stride leftovers); they get zero gradient.</summary>
    public long Leftover(int axis, Node node) =>
        PaddedSize(axis, node) - ((Out(axis, node) - 1) * Strides[axis] + Reach(axis) + 1);

    public long In(int axis, Node node) => InSize[axis]
        ?? throw new GraphException($"{node}: Conv gradient needs the static spatial size of input axis {axis + 2}");

    public long Out(int axis, Node node) => OutSize[axis]
        ?? throw new GraphException($"{node}: Conv gradient needs the static spatial size of output axis {axis + 2}");

    public static ConvGeometry Of(GradientContext c)
    {
        var node = c.Node;
        var xShape = c.ShapeOf(c.I(0));
        var wShape = c.ShapeOf(c.I(1));
        int rank = xShape.Count - 2;
        if (rank < 1) throw new GraphException($"{node}: Conv input must have rank >= 3 (got {xShape.Count})");

        long[] kernel = node.Ints("kernel_shape") is { } ks ? [.. ks]
            : [.. wShape.Skip(2).Select(d => d.Value ?? throw new GraphException($"{node}: kernel size is not static"))];
        long[] strides = Axes(node.Ints("strides"), rank, 1);
        long[] dilations = Axes(node.Ints("dilations"), rank, 1);
        long group = node.Int("group", 1);
        long inChannels = xShape[1].Value ?? throw new GraphException($"{node}: Conv gradient needs a static channel count");
        long outChannels = wShape[0].Value ?? (c.ShapeOf(c.O(0)) is { } yShape && yShape[1].Value is { } m ? m
            : throw new GraphException($"{node}: Conv gradient needs a static output channel count"));
        long?[] inSize = [.. xShape.Skip(2).Select(d => d.Value)];

        var padsBegin = new long[rank];
        var padsEnd = new long[rank];
        string autoPad = node.String("auto_pad", "NOTSET");
        switch (autoPad)
        {
            case "NOTSET" or "":
                if (node.Ints("pads") is { } pads)
                {
                    if (pads.Count != 2 * rank) throw new GraphException($"{node}: pads has {pads.Count} values for {rank} spatial axes");
                    for (int a = 0; a < rank; a++) (padsBegin[a], padsEnd[a]) = (pads[a], pads[a + rank]);
                }
                break;
            case "VALID":
                break;
            case "SAME_UPPER" or "SAME_LOWER":
                for (int a = 0; a < rank; a++)
                {
                    long reach = dilations[a] * (kernel[a] - 1);
                    // With stride 1 the total pad is d(k-1) whatever the size; otherwise it depends on it.
                    long total = strides[a] == 1 ? reach : inSize[a] is { } h
                        ? Math.Max(0, (CeilDiv(h, strides[a]) - 1) * strides[a] + reach + 1 - h)
                        : throw new GraphException($"{node}: auto_pad {autoPad} with stride > 1 needs the static input size of axis {a + 2}");
                    long small = total / 2;
                    (padsBegin[a], padsEnd[a]) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small);
                }
                break;
            default:
                throw new GraphException($"{node}: unknown auto_pad '{autoPad}'");
        }

        var yShapeKnown = c.O(0).Type?.Shape;
        var outSize = new long?[rank];
        for (int a = 0; a < rank; a++)
        {
            outSize[a] = yShapeKnown is { } ys && ys.Count == rank + 2 && ys[a + 2].Value is { } o ? o
                : inSize[a] is { } h ? (h + padsBegin[a] + padsEnd[a] - dilations[a] * (kernel[a] - 1) - 1) / strides[a] + 1
                : null;
        }

        return new ConvGeometry
        {
            Rank = rank, Group = group, InChannels = inChannels, OutChannels = outChannels, Kernel = kernel,
            Strides = strides, Dilations = dilations, PadsBegin = padsBegin, PadsEnd = padsEnd, InSize = inSize, OutSize = outSize,
        };
    }

    private static long[] Axes(IReadOnlyList<long>? values, int rank, long fallback) =>
        values is { Count: > 0 } v ? [.. v] : [.. Enumerable.Repeat(fallback, rank)];

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;
}
