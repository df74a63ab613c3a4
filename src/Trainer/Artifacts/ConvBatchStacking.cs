using OnnxTrainer.Autodiff;
using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Artifacts;

/// <summary>
/// Runs each small ungrouped 2-D Conv or ConvTranspose whose weight is computed in the graph (a trainable weight, or the
/// flipped kernel of a gradient) over the batch stacked into a single tall image: [N, C, H, W] becomes
/// [1, C, N*(H+g), W], with g zero rows after each image so that no window (or scattered kernel) spans two images,
/// and the output rows computed over the gaps are cut off again; strides along the height are kept by making H+g a
/// multiple of them. ONNX Runtime's CPU Conv multiplies image by image; below 64 positions per image MLAS fills its
/// 16-wide column panels poorly (7x7: 49 of 64) and pays its per-image packing, while the stacked image is one long
/// multiplication. Constant weights take ONNX Runtime's NCHWc kernels instead and are left alone. Measured at batch
/// 16 (ms, per image -> stacked, the wrapping Transposes, Pad and Slice included): 3x3 512->512 @7 14.3-15.5 ->
/// 12.1-13.9, 256->256 @7 4.7-5.0 -> 3.5, s2 256->512 onto 7x7 7.4-7.9 -> 7.0-7.2, the dX ConvTranspose from 7x7 9.1-10.6
/// -> 7.4-8.5; at batch 64 3x3 512@1 7.2-9.6 -> 3.2, 256@2 6.4 -> 2.7, 128@4 2.5-2.9 -> 2.1, s2 64->128 onto 4x4
/// 1.2-2.1 -> 1.0-1.1. Not stacked, being slower or no faster that way: 64 positions and more unless the Conv is wide
/// (below; 64->64 @8 1.5 -> 1.9 ms, 128->128 @28 11.1-12.5 -> 12.8-13.3, the ConvTranspose from 14x14 8.0-8.3 ->
/// 9.8-10.1), grouped Convs (depthwise 960@7 3.2 -> 3.8), 1x1 Convs (960->160 @7 0.9 -> 1.0).
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

    /// <summary>Stacks every eligible Conv and ConvTranspose of <paramref name="graph"/> (value shapes must be inferred); returns how many.</summary>
    public static int Apply(Graph graph, long opset)
    {
        ArgumentNullException.ThrowIfNull(graph);
        int stacked = 0;
        foreach (var node in graph.Nodes.Where(n => n.OpType is "Conv" or "ConvTranspose" && n.Domain.Length == 0).ToList())
        {
            if (Plan(node) is not { } plan) continue;
            Stack(graph, opset, node, plan);
            stacked++;
        }
        if (stacked > 0) graph.SortTopologically();
        return stacked;
    }

    /// <param name="Gap">Zero rows after each image, so that no window (or scattered kernel) spans two images.</param>
    /// <param name="Block">Output rows each stacked image yields; the first <paramref name="OutHeight"/> are its output.</param>
    /// <param name="HeightAttributes">The pads (and output_padding) that replace the node's, with the height's changed.</param>
    private sealed record Stacking(long Channels, long Width, long OutChannels, long OutHeight, long OutWidth, long Gap, long Block,
        Attribute[] HeightAttributes);

    private static Stacking? Plan(Node node)
    {
        if (node.Int("group", 1) != 1 || node.String("auto_pad", "NOTSET") is not ("NOTSET" or "") || node.Ints("output_shape") is not null) return null;
        var weight = node.Input(1)!;
        if (weight.IsInitializer || GradientContext.ConstantData(weight) is not null) return null;
        if (Dims(node.Input(0)!) is not [_, long c, long h, long w] || Dims(node.Output()) is not [_, long m, long ho, long wo]) return null;
        if (Dims(weight) is not [_, _, long kh, long kw] || kh * kw == 1) return null;
        long stride = node.Ints("strides")?[0] ?? 1;
        long reach = (node.Ints("dilations")?[0] ?? 1) * (kh - 1);
        long[] pads = node.Ints("pads") is { Count: 4 } p ? [.. p] : [0, 0, 0, 0];
        if (pads[0] > reach) return null;
        return node.OpType == "Conv" ? PlanConv(c, h, w, m, ho, wo, stride, reach, pads) : PlanConvTranspose(node, c, h, w, m, ho, wo, stride, reach, pads);
    }

    /// <summary>
    /// Output row r of an image reads its input rows r*s - pt + k*d: the gap covers what the windows read above (pt) and
    /// below the image, and makes the stacked image's height a multiple of the stride so that every image starts a window.
    /// </summary>
    private static Stacking? PlanConv(long c, long h, long w, long m, long ho, long wo, long stride, long reach, long[] pads)
    {
        bool small = ho * wo <= MaximumPositions || ho * wo <= MaximumPositionsWide && c >= WideChannels && m >= WideChannels;
        long below = Math.Max(0, (ho - 1) * stride - pads[0] + reach - (h - 1));
        long gap = Math.Max(pads[0], below);
        gap += (stride - (h + gap) % stride) % stride;
        long block = (h + gap) / stride;
        // Rows computed but cut off again: the gap's, and more where the kernel outgrows its padding.
        if (!small || block > 2 * ho) return null;
        // Bottom padding so that the last image, too, yields a whole block.
        long bottom = Math.Max(0, reach - pads[0] - stride + 1);
        return new Stacking(c, w, m, ho, wo, gap, block, [Attribute.Of("pads", new[] { pads[0], pads[1], bottom, pads[3] })]);
    }

    /// <summary>
    /// Input row i of an image scatters to its output rows i*s - pt + k*d: the gap must keep each image's scatter below the
    /// next image's output and the next image's scatter above (-pt) past this image's output. The per-image multiplication
    /// has one column per input position, so the input's size decides (3x3 s2 128->64 from 4x4, batch 64: 2.2-3.0 -> 1.1-1.4 ms).
    /// </summary>
    private static Stacking? PlanConvTranspose(Node node, long inChannels, long h, long w, long outChannels, long ho, long wo, long stride,
        long reach, long[] pads)
    {
        if (h * w > MaximumPositions) return null;
        long gap = 0;
        while ((h + gap) * stride - pads[0] < ho || (h - 1) * stride + reach - pads[0] >= (h + gap) * stride) gap++;
        long block = (h + gap) * stride;
        if (block > 2 * ho) return null;
        long[] outputPadding = node.Ints("output_padding") is { Count: 2 } op ? [.. op] : [0, 0];
        // End padding and output_padding that make the stacked output exactly N blocks: (N(h+g) - 1)s + reach + 1 - pt - pb' + op'.
        long excess = stride - reach - 1 + pads[0];
        return new Stacking(inChannels, w, outChannels, ho, wo, gap, block,
        [
            Attribute.Of("pads", new[] { pads[0], pads[1], Math.Max(0, -excess), pads[3] }),
            Attribute.Of("output_padding", new[] { Math.Max(0, excess), outputPadding[1] }),
        ]);
    }

    /// <summary>The static sizes of a 4-D value; the batch may be symbolic (null).</summary>
    private static long?[]? Dims(Value v) => v.Type?.Shape is { Count: 4 } shape ? [.. shape.Select(d => d.Value)] : null;

    private static void Stack(Graph graph, long opset, Node node, Stacking s)
    {
        var inputs = node.Inputs.ToList();
        var output = node.Output();
        var replaced = s.HeightAttributes.Select(a => a.Name).ToHashSet();
        var attributes = node.Attributes.Values.Where(a => !replaced.Contains(a.Name)).Concat(s.HeightAttributes).ToArray();
        string name = node.Name;
        graph.RemoveNode(node);

        var b = new GraphBuilder(graph, opset, name + "/stacked");
        var channelsFirst = b.Transpose(inputs[0]!, 1, 0, 2, 3); // [C, N, H, W]
        var separated = s.Gap > 0 ? b.Pad(channelsFirst, [0, 0, 0, 0], [0, 0, s.Gap, 0]) : channelsFirst;
        var tall = b.Reshape(separated, 1, s.Channels, -1, s.Width);
        var convolved = b.Op(node.OpType, [tall, .. inputs.Skip(1)], attributes);
        var rows = b.Reshape(convolved, s.OutChannels, -1, s.Block, s.OutWidth); // [M, N, block, Wo]
        var cut = s.Block > s.OutHeight ? b.Slice(rows, [0], [s.OutHeight], [2]) : rows;
        graph.AddNodeWithOutputs("Transpose", [cut], [output], [Attribute.Of("perm", new long[] { 1, 0, 2, 3 })], name);
    }
}
