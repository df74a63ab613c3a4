namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// Elementwise operators over inputs broadcast together (Add, Mul, Equal ...). The output type is
/// input 0's, or a fixed one (bool for comparisons). With <c>op</c> given, integer values are computed.
/// </summary>
internal sealed class BroadcastRule(Func<long, long, long>? op = null, DataType? resultType = null) : IShapeRule
{
    public static readonly Func<long, long, long> Add = (a, b) => a + b;
    public static readonly Func<long, long, long> Sub = (a, b) => a - b;
    public static readonly Func<long, long, long> Mul = (a, b) => a * b;
    public static readonly Func<long, long, long> Div = (a, b) => a / b;

    public TensorType?[] Infer(ShapeContext c)
    {
        var shape = DimMath.Broadcast(c, Enumerable.Range(0, c.InputCount).Select(c.Shape));
        return c.Outputs(new TensorType(resultType ?? c.ElementType(0), shape));
    }

    public SymbolicTensor? Evaluate(ShapeContext c)
    {
        if (op is null) return null;
        var inputs = Enumerable.Range(0, c.InputCount).Select(c.Data).ToArray();
        if (inputs.Any(i => i is null)) return null;
        var type = resultType ?? inputs[0]!.ElementType;
        try
        {
            return Map(inputs!, type, args => args.Aggregate((a, b) =>
                a.Value is long x && b.Value is long y ? SymbolicInt.Known(SymbolicTensor.Wrap(type, op(x, y))) : default));
        }
        catch (DivideByZeroException)
        {
            return null; // left for the runtime to report
        }
    }

    /// <summary>Applies <paramref name="f"/> to the broadcast elements of small tensors.</summary>
    public static SymbolicTensor? Map(SymbolicTensor[] inputs, DataType type, Func<SymbolicInt[], SymbolicInt> f)
    {
        int rank = inputs.Max(i => i.Rank);
        var dims = new long[rank];
        Array.Fill(dims, 1);
        foreach (var input in inputs)
            for (int d = 0; d < input.Rank; d++)
            {
                long size = input.Dims[d];
                ref long target = ref dims[rank - input.Rank + d];
                if (target == 1) target = size;
                else if (size != 1 && size != target) return null;
            }
        long count = Tensor.ElementCount(dims);
        if (count > SymbolicTensor.MaxElements) return null;
        // Per input, the stride of each output axis (0 along broadcast axes).
        var strides = inputs.Select(input =>
        {
            var s = new long[rank];
            long stride = 1;
            for (int d = input.Rank - 1; d >= 0; d--)
            {
                s[rank - input.Rank + d] = input.Dims[d] == 1 ? 0 : stride;
                stride *= input.Dims[d];
            }
            return s;
        }).ToArray();
        var result = new SymbolicInt[count];
        var index = new long[rank];
        var args = new SymbolicInt[inputs.Length];
        for (long flat = 0; flat < count; flat++)
        {
            for (int k = 0; k < inputs.Length; k++)
            {
                long offset = 0;
                for (int d = 0; d < rank; d++) offset += index[d] * strides[k][d];
                args[k] = inputs[k].Elements[offset];
            }
            result[flat] = f(args);
            for (int d = rank - 1; d >= 0 && ++index[d] == dims[d]; d--) index[d] = 0;
        }
        return SymbolicTensor.Create(type, dims, result);
    }
}
