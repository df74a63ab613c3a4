namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// Reshape to the shape in input 1: 0 copies the input dimension (unless allowzero), -1 takes what
/// is left. Symbols cancel, so [N, C, H, W] to [N, -1] gives [N, C*H*W].
/// </summary>
internal sealed class ReshapeRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c) => c.Outputs(new TensorType(c.ElementType(0), Target(c)));

    public SymbolicTensor? Evaluate(ShapeContext c) =>
        c.Data(0) is { } data && Target(c) is { } dims && dims.All(d => d.IsKnown)
            ? data.WithDims(dims.Select(d => d.Value!.Value).ToArray())
            : null;

    private static Dim[]? Target(ShapeContext c)
    {
        if (c.Data(1) is not { } shape)
            return c.Shape(1) is [{ Value: long rank }] ? Enumerable.Repeat(Dim.Unknown, (int)rank).ToArray() : null;
        var x = c.Shape(0);
        bool allowZero = c.Int("allowzero", 0) != 0;
        var dims = new Dim[shape.Elements.Length];
        int inferred = -1;
        for (int i = 0; i < dims.Length; i++)
        {
            var e = shape.Elements[i];
            if (e.Value == -1)
            {
                if (inferred >= 0) throw c.Error("the shape has more than one -1");
                inferred = i;
            }
            else if (e.Value == 0 && !allowZero) dims[i] = x is null ? Dim.Unknown : i < x.Count ? x[i] : throw c.Error($"shape entry {i} copies a dimension the rank-{x.Count} input lacks");
            else if (e.Value < 0) throw c.Error($"invalid shape entry {e.Value}");
            else dims[i] = e.ToDim();
        }
        if (inferred >= 0) dims[inferred] = x is null ? Dim.Unknown : Quotient(c, x, dims.Where((_, i) => i != inferred));
        return dims;
    }

    /// <summary>prod(numerator) / prod(denominator), cancelling common symbols.</summary>
    private static Dim Quotient(ShapeContext c, IEnumerable<Dim> numerator, IEnumerable<Dim> denominator)
    {
        if (!Factor(numerator, out long n, out var symbols) || !Factor(denominator, out long d, out var divisors)) return Dim.Unknown;
        foreach (var s in divisors)
            if (!symbols.Remove(s)) return Dim.Unknown;
        if (symbols.Count == 0)
        {
            if (d == 0 || n % d != 0) throw c.Error($"cannot reshape {n} elements into a multiple of {d}");
            return Dim.Known(n / d);
        }
        return symbols.Count == 1 && n == d && d != 0 ? Dim.Named(symbols[0]) : Dim.Unknown;
    }

    private static bool Factor(IEnumerable<Dim> dims, out long known, out List<string> symbols)
    {
        known = 1;
        symbols = [];
        foreach (var dim in dims)
        {
            if (dim.Value is long v) known = checked(known * v);
            else if (dim.Symbol is { } s) symbols.Add(s);
            else return false;
        }
        return true;
    }
}
