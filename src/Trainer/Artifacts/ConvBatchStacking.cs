using OnnxTrainer.Autodiff;
using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// Runs each small ungrouped 2-D convolution (stride 1 along the height) whose weight is computed in the graph (a
/// trainable weight, or the flipped kernel of a gradient) as one convolution over the batch stacked into a single tall
/// image: [N, C, H, W] becomes [1, C, N*(H+g), W], with g zero rows after each image so that no window reads across
/// images, and the output rows computed over the gaps are cut off again. ONNX Runtime's CPU Conv multiplies image by image;
/// below 64 output positions per image MLAS fills its 16-wide column panels poorly (7x7: 49 of 64) and pays its
/// per-image packing, while the stacked image is one long multiplication. Constant weights take ONNX Runtime's NCHWc
/// kernels instead and are left alone. Measured at batch 16 (ms, per image -> stacked, the wrapping Transposes, Pad and
/// Slice included): 3x3 512->512 @7 14.3-15.5 -> 12.1-13.9, 256->256 @7 4.7-5.0 -> 3.5; at batch 64 3x3 512@1
/// 7.2-9.6 -> 3.2, 256@2 6.4 -> 2.7, 128@4 2.5-2.9 -> 2.1. Not stacked, being slower or no faster that way: 64 output
/// positions and more unless the Conv is wide (below; 64->64 @8 1.5 -> 1.9 ms, 128->128 @28 11.1-12.5 -> 12.8-13.3),
/// grouped Convs (depthwise 960@7 3.2 -> 3.8), 1x1 Convs (960->160 @7 0.9 -> 1.0).
/// </summary>
public static class ConvBatchStacking
{
    /// <summary>The most output positions per image for which a Conv is stacked.</summary>
    private const long MaximumPositions = 63;

    /// <summary>
    /// Wide Convs are stacked up to this many output positions per image (14x14): their multiplication outweighs the
    /// wrapping, which grows with the channels only linearly (3x3 256->256 @14 11.9-12.2 -> 11.1-11.3 ms, 512->512
    /// 47.8-52.5 -> 43.0-47.2; but 128->128 2.9-3.5 -> 3.3-4.4, 64->64 1.1 -> 1.4-1.6).
    /// </summary>
    private const long MaximumPositionsWide = 255, WideChannels = 256;

    /// <summary>Stacks every eligible Conv of <paramref name="graph"/> (value shapes must be inferred); returns how many.</summary>
    public static int Apply(Graph graph, long opset)
    {
        ArgumentNullException.ThrowIfNull(graph);
        int stacked = 0;
        foreach (var conv in graph.Nodes.Where(n => n.OpType == "Conv" && n.Domain.Length == 0).ToList())
        {
            if (Plan(conv) is not { } plan) continue;
            Stack(graph, opset, conv, plan);
            stacked++;
        }
        if (stacked > 0) graph.SortTopologically();
        return stacked;
    }

    /// <param name="Gap">Zero rows after each image: as many as the windows reach above or below an image.</param>
    private sealed record Geometry(long Channels, long Height, long Width, long OutChannels, long OutHeight, long OutWidth,
        long[] Pads, long Reach, long Gap);

    private static Geometry? Plan(Node conv)
    {
        if (conv.Int("group", 1) != 1 || conv.String("auto_pad", "NOTSET") is not ("NOTSET" or "")) return null;
        var weight = conv.Input(1)!;
        if (weight.IsInitializer || GradientContext.ConstantData(weight) is not null) return null;
        if (Dims(conv.Input(0)!) is not [_, long c, long h, long w] || Dims(conv.Output()) is not [_, long m, long ho, long wo]) return null;
        if (Dims(weight) is not [_, _, long kh, long kw] || kh * kw == 1) return null;
        if ((conv.Ints("strides")?[0] ?? 1) != 1) return null;
        long[] pads = conv.Ints("pads") is { Count: 4 } p ? [.. p] : [0, 0, 0, 0];
        long reach = (conv.Ints("dilations")?[0] ?? 1) * (kh - 1);
        long gap = Math.Max(pads[0], pads[2]);
        // Rows computed but cut off again: the gap rows, and more where the kernel outgrows its padding.
        bool fewWasted = h + gap <= 2 * ho;
        bool small = ho * wo <= MaximumPositions || ho * wo <= MaximumPositionsWide && c >= WideChannels && m >= WideChannels;
        return small && pads[0] <= reach && fewWasted
            ? new Geometry(c, h, w, m, ho, wo, pads, reach, gap) : null;
    }

    /// <summary>The static sizes of a 4-D value; the batch may be symbolic (null).</summary>
    private static long?[]? Dims(Value v) => v.Type?.Shape is { Count: 4 } shape ? [.. shape.Select(d => d.Value)] : null;

    private static void Stack(Graph graph, long opset, Node conv, Geometry g)
    {
        var inputs = conv.Inputs.ToList();
        var output = conv.Output();
        var attributes = conv.Attributes.Values.Where(a => a.Name != "pads").ToList();
        string name = conv.Name;
        graph.RemoveNode(conv);

        var b = new GraphBuilder(graph, opset, name + "/stacked");
        var channelsFirst = b.Transpose(inputs[0]!, 1, 0, 2, 3); // [C, N, H, W]
        var separated = g.Gap > 0 ? b.Pad(channelsFirst, [0, 0, 0, 0], [0, 0, g.Gap, 0]) : channelsFirst;
        var tall = b.Reshape(separated, 1, g.Channels, -1, g.Width);
        // Bottom padding so that every image, the last included, yields H + g output rows.
        long[] pads = [g.Pads[0], g.Pads[1], g.Reach - g.Pads[0], g.Pads[3]];
        var convolved = b.Op("Conv", [tall, .. inputs.Skip(1)], [.. attributes, Attribute.Of("pads", pads)]);
        var rows = b.Reshape(convolved, g.OutChannels, -1, g.Height + g.Gap, g.OutWidth); // [M, N, H + g, Wo]
        var cut = g.Height + g.Gap > g.OutHeight ? b.Slice(rows, [0], [g.OutHeight], [2]) : rows;
        graph.AddNodeWithOutputs("Transpose", [cut], [output], [Attribute.Of("perm", new long[] { 1, 0, 2, 3 })], name);
    }
}
