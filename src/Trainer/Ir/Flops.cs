namespace OnnxTrainer.Ir;

/// <summary>
/// Floating-point operations of the layers that dominate a CNN's cost: convolutions, linear layers and
/// matrix products, counted as 2 x multiply-accumulates for the shapes in the graph (run shape inference
/// with a concrete batch first). Elementwise operators, pooling and normalization are not counted, as in
/// the usual model-zoo tables.
/// </summary>
public static class Flops
{
    /// <summary>FLOPs of one node, or null when it is not counted or its shapes are not known.</summary>
    public static long? Of(Node node)
    {
        switch (node.OpType)
        {
            case "Conv":
            {
                var output = node.Output().Type?.KnownDims;
                var weight = node.Input(1)?.Type?.KnownDims;
                if (output is null || weight is null) return null;
                // Each output element reads (C_in / group) * kernel elements.
                return 2 * Tensor.ElementCount(output) * Tensor.ElementCount(weight[1..]);
            }
            case "ConvTranspose":
            {
                var input = node.Input(0)?.Type?.KnownDims;
                var weight = node.Input(1)?.Type?.KnownDims;
                if (input is null || weight is null) return null;
                return 2 * Tensor.ElementCount(input) * Tensor.ElementCount(weight[1..]);
            }
            case "Gemm" or "MatMul":
            {
                var output = node.Output().Type?.KnownDims;
                var a = node.Input(0)?.Type?.KnownDims;
                if (output is null || a is null || a.Length == 0) return null;
                long inner = node.OpType == "Gemm" && node.Int("transA", 0) != 0 ? a[0] : a[^1];
                return 2 * Tensor.ElementCount(output) * inner;
            }
            default:
                return null;
        }
    }
}
