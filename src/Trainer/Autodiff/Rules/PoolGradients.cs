using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

// Pooling. MaxPool routes each upstream gradient to the input element its window picked (the first
// maximum, as ONNX Runtime's and PyTorch's kernels do); AveragePool spreads it evenly over the window.

/// <summary>
/// MaxPool: float 2-D windows at stride 1 or 2 whose forward does not output Indices take
/// <see cref="MaxPoolPhases"/>, from the pooled values alone, where the formulations ask for it (the CPU's). Otherwise: scatter-add GO into zeros at the flat indices
/// MaxPool reports. ONNX Runtime's Indices count over the whole tensor (batch and channel offsets included) and keep
/// the first maximum of a window, which is exactly the subgradient PyTorch uses. The indices come from the forward node:
/// when it does not output them yet, it is given its optional Indices output, so the forward pass computes them
/// together with the pooled values. ONNX Runtime computes Indices in a scalar loop (~40 ms at [16,64,112,112], 3x3 s2)
/// while a MaxPool without them runs on MLAS in ~6 ms, reorders included; a second MaxPool in the backward would pay
/// both. Only a forward node with storage_order 1 (column-major indices) keeps its output and a second, row-major
/// MaxPool runs here.
/// </summary>
internal sealed class MaxPoolGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var x = c.I(0);
        var geometry = PoolGeometry.Of(c);
        if (c.Formulations.MaxPoolPhases && c.Node.Outputs.Count == 1 && MaxPoolPhases.Applies(c, geometry))
            return [MaxPoolPhases.Build(c, geometry)];
        bool rowMajor = c.Attr("storage_order", 0) == 0;
        var indices = (c.Node.Outputs.Count, rowMajor) switch
        {
            (> 1, true) => c.O(1),
            (1, true) => c.Graph.AddNodeOutput(c.Node, c.Node.Name + "_indices", new TensorType(DataType.Int64, [.. c.ShapeOf(c.O(0))])),
            _ => c.OpN("MaxPool", [x], 2, [.. c.Node.Attributes.Values.Where(a => a.Name != "storage_order")])[1],
        };
        return [PoolScatter.Build(c, c.GO(0)!, indices, x, unique: !geometry.WindowsOverlap)];
    }
}

/// <summary>
/// GlobalMaxPool: the gradient goes to the first maximum of each (n, c) plane, matching MaxPool's and
/// PyTorch's adaptive_max_pool's choice on ties (amax would split it instead; one index keeps the
/// rule consistent with MaxPool). With static spatial dims this is a MaxPool over the whole plane
/// with Indices and a plain scatter (one window per plane, so indices are unique at any opset).
/// </summary>
internal sealed class GlobalMaxPoolGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var x = c.I(0);
        var spatial = c.ShapeOf(x).Skip(2).ToList();
        if (spatial.Any(d => !d.IsKnown))
            return [EqualSplit(c, x)];
        var kernel = spatial.Select(d => d.Value!.Value).ToArray();
        var indices = c.OpN("MaxPool", [x], 2, Attribute.Of("kernel_shape", kernel))[1];
        return [PoolScatter.Build(c, c.GO(0)!, indices, x, unique: true)];
    }

    /// <summary>Without static spatial dims: split the gradient evenly among the tied maxima (amax's rule).</summary>
    private static Value EqualSplit(GradientContext c, Value x)
    {
        var mask = c.Cast(c.Op("Equal", [x, c.O(0)]), c.ElementType(x));
        var axes = Enumerable.Range(2, c.RankOf(x) - 2).Select(a => (long)a).ToArray();
        return c.Mul(mask, c.Div(c.GO(0)!, c.ReduceSum(mask, axes, keepDims: true)));
    }
}

/// <summary>
/// AveragePool: dX is GO divided by each window's divisor, spread over the window. The divisors are a
/// constant computed from the static shapes exactly as the forward kernel counts them (partial windows
/// from padding or ceil_mode), folded into the kernel when uniform. Measured on ONNX Runtime CPU
/// ([16,128,56,56]): windows that tile the input exactly (k = s, no pads; DenseNet's transitions) are a
/// nearest-neighbour Resize (1.0 ms vs 2.0 for ConvTranspose); other windows are a depthwise
/// ConvTranspose (group = C) with a constant kernel, which beat folding channels into the batch
/// ([N*C, 1, ...], 11 vs 17 ms for 3x3 s2) and the 6-D Expand (13 ms).
/// </summary>
internal sealed class AveragePoolGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var x = c.I(0);
        var g = PoolGeometry.Of(c);
        var type = c.ElementType(x);
        var divisors = g.Divisors(c.Attr("count_include_pad", 0) != 0);
        bool uniform = divisors.All(d => d == divisors[0]);
        double weight = uniform ? 1.0 / divisors[0] : 1.0;
        int r = g.Kernel.Length;

        var grad = c.GO(0)!;
        if (!uniform)
            grad = c.Mul(grad, c.Constant(Tensor.FromReals(type, [1, 1, .. g.Output], [.. divisors.Select(d => 1.0 / d)]), "inverse_divisors"));

        bool tiles = Enumerable.Range(0, r).All(i => g.Kernel[i] == g.Stride[i] && g.Dilation[i] == 1
            && g.PadBegin[i] == 0 && g.PadEnd[i] == 0 && g.Output[i] * g.Kernel[i] == g.Input[i]);
        if (tiles && uniform && c.Opset >= 13)
        {
            // asymmetric + floor makes output[i] = input[i / k] exactly for integer scales.
            var scales = c.Constant(Tensor.FromFloats([r + 2], [1f, 1f, .. g.Kernel.Select(k => (float)k)]), "scales");
            var spread = c.Op("Resize", [c.Mul(grad, c.ScalarLike(weight, x)), null, scales], Attribute.Of("mode", "nearest"),
                Attribute.Of("coordinate_transformation_mode", "asymmetric"), Attribute.Of("nearest_mode", "floor"));
            return [spread];
        }

        // ConvTranspose's end pads crop what windows reach past the input (ceil_mode); output_padding
        // adds back the trailing elements no window covered (floor mode), which get a zero gradient.
        var padsEnd = new long[r];
        var outputPadding = new long[r];
        for (int i = 0; i < r; i++)
        {
            long span = g.Stride[i] * (g.Output[i] - 1) + (g.Kernel[i] - 1) * g.Dilation[i] + 1;
            long excess = span - g.PadBegin[i] - g.Input[i];
            if (excess >= 0) padsEnd[i] = excess;
            else outputPadding[i] = -excess;
        }
        Attribute[] window =
        [
            Attribute.Of("kernel_shape", g.Kernel), Attribute.Of("strides", g.Stride), Attribute.Of("dilations", g.Dilation),
            Attribute.Of("pads", [.. g.PadBegin, .. padsEnd]), Attribute.Of("output_padding", outputPadding),
        ];
        long kernelSize = g.Kernel.Aggregate(1L, (n, k) => n * k);
        if (c.ShapeOf(x)[1].Value is { } channels)
        {
            var kernel = c.Constant(Tensor.FromReals(type, [channels, 1, .. g.Kernel], [.. Enumerable.Repeat(weight, (int)(channels * kernelSize))]), "window");
            return [c.Op("ConvTranspose", [grad, kernel], [.. window, Attribute.Of("group", channels)])];
        }
        // Unknown channel count: fold the channels into the batch and spread with one single-channel kernel.
        var single = c.Constant(Tensor.FromReals(type, [1, 1, .. g.Kernel], [.. Enumerable.Repeat(weight, (int)kernelSize)]), "window");
        var folded = c.Op("ConvTranspose", [c.Reshape(grad, [-1, 1, .. g.Output]), single], window);
        return [c.Reshape(folded, c.Shape(x))];
    }
}

/// <summary>GlobalAveragePool: GO / (spatial size), broadcast back over the spatial axes.</summary>
internal sealed class GlobalAveragePoolGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        var x = c.I(0);
        var spatial = c.ShapeOf(x).Skip(2).ToList();
        Value scaled = spatial.All(d => d.IsKnown)
            ? c.Mul(c.GO(0)!, c.ScalarLike(1.0 / spatial.Aggregate(1L, (n, d) => n * d.Value!.Value), x))
            : c.Div(c.GO(0)!, c.Cast(c.Op("ReduceProd", [c.Slice(c.Shape(x), [2], [long.MaxValue], [0])], Attribute.Of("keepdims", 0L)), c.ElementType(x)));
        return [c.Op("Expand", [scaled, c.Shape(x)])];
    }
}

/// <summary>Scatters a pooled gradient back to the input positions named by flat MaxPool indices.</summary>
internal static class PoolScatter
{
    /// <summary>
    /// zeros(X).flatten().scatter_add(indices.flatten(), GO.flatten()), reshaped to X. When windows can overlap
    /// the same index may appear twice, which needs reduction="add" (opset 16); otherwise a plain scatter suffices.
    /// </summary>
    public static Value Build(GradientContext c, Value grad, Value indices, Value x, bool unique)
    {
        if (!unique && c.Opset < 16)
            throw new GraphException($"{c.Node}: the gradient of pooling with overlapping windows needs ScatterElements with " +
                $"reduction='add' (opset 16+); the graph has opset {c.Opset}. Convert the model to opset 16 or later.");
        var shape = c.Shape(x);
        var zeros = c.Reshape(c.Op("ConstantOfShape", [shape], Attribute.Of("value", Tensor.FromReals(c.ElementType(x), [1], [0.0]))), -1);
        var flatIndices = c.Reshape(indices, -1);
        var flatGrad = c.Reshape(grad, -1);
        var scattered = unique
            ? c.Op("ScatterElements", [zeros, flatIndices, flatGrad], Attribute.Of("axis", 0L))
            : c.Op("ScatterElements", [zeros, flatIndices, flatGrad], Attribute.Of("axis", 0L), Attribute.Of("reduction", "add"));
        return c.Reshape(scattered, shape);
    }
}

/// <summary>Floating-point constants in a rule's element type.</summary>
/// <summary>
/// The window geometry of a pooling node along each spatial axis, with auto_pad resolved into explicit
/// pads, from the node's attributes and the static spatial shapes of its input and output.
/// </summary>
internal sealed record PoolGeometry(long[] Kernel, long[] Stride, long[] Dilation, long[] PadBegin, long[] PadEnd, long[] Input, long[] Output)
{
    public static PoolGeometry Of(GradientContext c)
    {
        var node = c.Node;
        var inShape = c.ShapeOf(c.I(0));
        int r = inShape.Count - 2;
        if (r < 1) throw new GraphException($"{node}: pooling input must have rank >= 3 (got {inShape.Count})");
        long[] input = [.. inShape.Skip(2).Select(d => d.Value ?? throw new GraphException(
            $"{node}: the pooling gradient needs static spatial dims of '{c.I(0).Name}' (got [{string.Join(", ", inShape)}])"))];
        long[] kernel = [.. node.Ints("kernel_shape") ?? throw new GraphException($"{node}: kernel_shape is required")];
        long[] stride = [.. node.Ints("strides") ?? Enumerable.Repeat(1L, r)];
        long[] dilation = [.. node.Ints("dilations") ?? Enumerable.Repeat(1L, r)];
        long[] pads = [.. node.Ints("pads") ?? Enumerable.Repeat(0L, 2 * r)];
        bool ceil = c.Attr("ceil_mode", 0) != 0;
        string autoPad = node.String("auto_pad", "NOTSET");

        var output = new long[r];
        for (int i = 0; i < r; i++)
        {
            long extent = (kernel[i] - 1) * dilation[i] + 1;
            switch (autoPad)
            {
                case "VALID":
                    pads[i] = pads[i + r] = 0;
                    output[i] = (input[i] - extent) / stride[i] + 1;
                    break;
                case "SAME_UPPER" or "SAME_LOWER":
                    output[i] = (input[i] + stride[i] - 1) / stride[i];
                    long total = Math.Max(0, (output[i] - 1) * stride[i] + extent - input[i]);
                    long small = total / 2;
                    (pads[i], pads[i + r]) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small);
                    break;
                default:
                    long span = input[i] + pads[i] + pads[i + r] - extent;
                    output[i] = (ceil ? (span + stride[i] - 1) / stride[i] : span / stride[i]) + 1;
                    // ONNX Runtime's kernel (like PyTorch) drops a ceil_mode window that would start in the end
                    // padding, although ONNX shape inference keeps it: the kernel decides what runs, so we follow it.
                    if (ceil && (output[i] - 1) * stride[i] >= input[i] + pads[i]) output[i]--;
                    break;
            }
        }
        return new PoolGeometry(kernel, stride, dilation, pads[..r], pads[r..], input, output);
    }

    /// <summary>Whether an input element can fall into two windows along some axis.</summary>
    public bool WindowsOverlap => Kernel.Select((k, i) => (k - 1) * Dilation[i] + 1 > Stride[i]).Any(b => b);

    /// <summary>
    /// Each output position's divisor, row-major over the output's spatial shape: the in-bounds window size
    /// without count_include_pad; with it, the window clipped to the padded input (ceil_mode windows that
    /// run past the end padding count only up to it), as ONNX Runtime's and PyTorch's kernels divide.
    /// </summary>
    public double[] Divisors(bool includePad)
    {
        int r = Kernel.Length;
        var perAxis = new long[r][];
        for (int i = 0; i < r; i++)
        {
            perAxis[i] = new long[Output[i]];
            for (long o = 0; o < Output[i]; o++)
            {
                long start = o * Stride[i] - PadBegin[i];
                long end = Math.Min(start + Kernel[i] * Dilation[i], Input[i] + PadEnd[i]);
                long count = 0;
                for (long p = start; p < end; p += Dilation[i])
                    if (includePad || (p >= 0 && p < Input[i])) count++;
                perAxis[i][o] = count;
            }
        }
        var result = new double[Output.Aggregate(1L, (n, o) => n * o)];
        for (long flat = 0; flat < result.Length; flat++)
        {
            long rest = flat, product = 1;
            for (int i = r - 1; i >= 0; i--)
            {
                product *= perAxis[i][rest % Output[i]];
                rest /= Output[i];
            }
            result[flat] = product;
        }
        return result;
    }
}
