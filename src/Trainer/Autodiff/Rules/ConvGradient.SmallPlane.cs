using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

internal sealed partial class ConvGradient
{
    /// <summary>
    /// The most multiply-adds per image and channel (input positions x kernel taps x output positions) for which
    /// <see cref="SmallPlaneWeightGradient"/> unfolds X by a MatMul: its 0/1 matrix is dense, so the cost grows with the
    /// square of the plane. Measured at batch 16 unless noted (ms, per tap or shifted copies -> unfolded): 3x3 512@7
    /// (21.6k) 12.1-13.0 -> 11.2-11.4, s2 256->512 @14 (86k) 7.4-7.9 -> 6.6-6.7, batch 64 64@8 (36.9k, where the shifted
    /// copies serve and are kept) 1.9-2.6 -> 2.0-2.3; 256@14 (346k, in isolation) 12.2-12.4 -> 18.6-18.9. At batch 64
    /// s2 32->64 @16 (147k) gains in dW alone (2.1-2.2 -> 1.8-1.9) but not in its whole step (fastest 48.3-48.9 ->
    /// 48.0-49.3 ms), so the line stays below it.
    /// </summary>
    private const long SmallPlaneMaximumProduct = 100_000;

    private static bool IsSmallPlane(ConvGeometry g, Node node)
    {
        var axes = Enumerable.Range(0, g.Rank);
        if (axes.Any(a => g.InSize[a] is null || g.OutSize[a] is null)) return false;
        long product = axes.Aggregate(1L, (p, a) => p * g.In(a, node) * g.Kernel[a] * g.Out(a, node));
        return product <= SmallPlaneMaximumProduct;
    }

    /// <summary>
    /// Ungrouped kernels over 16+ channels and small planes that the shifted copies do not serve (any stride, dilation and
    /// padding): every window of X in one MatMul, X [N*C, P] by a constant 0/1 matrix [P, k*L] whose column (tap, output
    /// position) holds a single 1 at the input position that tap reads there (none in the padding), then dW [M, C*k] =
    /// dY [M, N*L] x unfolded [C*k, N*L]^T in one Gemm, already in the weight's layout. Each unfolded value is one input
    /// times 1 plus zeros, exact for finite inputs. Over small planes ONNX Runtime's Pad and Slice pay per row of a few
    /// floats, and the per-tap windows, their Gemms and the Concat of the taps' products cost more than this one dense
    /// product (benchmarks/Backward, the unfolding included; see <see cref="SmallPlaneMaximumProduct"/>, and at batch 64,
    /// ms, per tap -> this: 3x3 128@4 2.2-4.0 -> 1.0-1.3, s2 64->128 @8 1.6-2.8 -> 0.6-0.8).
    /// The forward Conv then reads the same unfolded matrix (<see cref="ShareUnfoldedForward"/>).
    /// </summary>
    private static Value SmallPlaneWeightGradient(GradientContext c, ConvGeometry g, Value dy)
    {
        var node = c.Node;
        int r = g.Rank;
        long[] inSize = [.. Enumerable.Range(0, r).Select(a => g.In(a, node))];
        long[] outSize = [.. Enumerable.Range(0, r).Select(a => g.Out(a, node))];
        long positions = Tensor.ElementCount(inSize), windows = Tensor.ElementCount(outSize), taps = Tensor.ElementCount(g.Kernel);

        var unfolding = new double[positions * taps * windows];
        var k = new long[r];
        var o = new long[r];
        for (long t = 0; t < taps; t++)
        {
            Unravel(t, g.Kernel, k);
            for (long w = 0; w < windows; w++)
            {
                Unravel(w, outSize, o);
                long flat = 0;
                bool inside = true;
                for (int a = 0; a < r && inside; a++)
                {
                    long i = o[a] * g.Strides[a] + k[a] * g.Dilations[a] - g.PadsBegin[a];
                    inside = i >= 0 && i < inSize[a];
                    flat = flat * inSize[a] + i;
                }
                if (inside) unfolding[flat * taps * windows + t * windows + w] = 1;
            }
        }

        // Named after the forward node: the forward computes it, for its own Conv and for this gradient.
        var forward = new GraphBuilder(c.Graph, c.Opset, node.Name + "/unfolded");
        var matrix = forward.Constant(Tensor.FromReals(c.ElementType(dy), [positions, taps * windows], unfolding), "unfolding");
        var unfolded = forward.Reshape(forward.MatMul(forward.Reshape(c.I(0), -1, positions), matrix), -1, g.InChannels, taps, windows); // [N, C, k, L]
        var columns = forward.Reshape(forward.Transpose(unfolded, 1, 2, 0, 3), g.InChannels * taps, -1); // [C*k, N*L]
        ShareUnfoldedForward(c, g, forward, columns, outSize);

        var rows = c.Reshape(c.Transpose(dy, ChannelsFirst(r)), g.OutChannels, -1); // [M, N*L]
        var dw = c.Op("Gemm", [rows, columns], Attribute.Of("transB", 1L));
        return c.Reshape(dw, [g.OutChannels, g.InChannels, .. g.Kernel]);
    }

    /// <summary>
    /// Computes the forward Conv's output as W [M, C*k] x unfolded [C*k, N*L] (+ B) instead, and makes its readers read that:
    /// one Gemm over the whole batch where ONNX Runtime's Conv unfolds X again, image by image or over the batch stacked
    /// with gap rows (ResNet-18 at batch 16, ms: 3x3 512@7 stacked Conv 11.4-12.5 plus ~0.6 of stacking -> Gemm 9.4 plus
    /// 0.1 of Transpose; s2 256->512 onto 7x7 6.0 -> 4.6). The Conv is left without readers for the dead-node pass. Not
    /// where the Conv's output is a graph output, whose name is part of the graph's contract.
    /// </summary>
    private static void ShareUnfoldedForward(GradientContext c, ConvGeometry g, GraphBuilder forward, Value columns, long[] outSize)
    {
        var output = c.O(0);
        if (c.Graph.Outputs.Contains(output)) return;
        long windows = Tensor.ElementCount(outSize);
        var weight = forward.Reshape(c.I(1), g.OutChannels, -1);
        Value?[] inputs = c.Node.Inputs.Count > 2 && c.Node.Inputs[2] is { } bias
            ? [weight, columns, forward.Reshape(bias, g.OutChannels, 1)]
            : [weight, columns];
        var product = forward.Op("Gemm", inputs); // [M, N*L]
        var batchFirst = forward.Transpose(forward.Reshape(product, g.OutChannels, -1, windows), 1, 0, 2); // [N, M, L]
        var computed = forward.Reshape(batchFirst, [-1, g.OutChannels, .. outSize]);
        computed.Type = output.Type;
        c.Graph.ReplaceAllUsesWith(output, computed);
    }
}
