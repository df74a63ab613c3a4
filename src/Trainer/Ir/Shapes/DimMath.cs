namespace OnnxTrainer.Ir.Shapes;

/// <summary>Arithmetic on possibly symbolic dimensions, shared by the rules.</summary>
internal static class DimMath
{
    /// <summary>
    /// Multidirectional (numpy) broadcasting. A known size other than 1 wins over a symbol, since the
    /// symbol must then equal it or be 1; two different symbols give an unknown size.
    /// </summary>
    public static Dim[] Broadcast(ShapeContext c, IReadOnlyList<Dim> a, IReadOnlyList<Dim> b)
    {
        int rank = Math.Max(a.Count, b.Count);
        var result = new Dim[rank];
        for (int i = 0; i < rank; i++)
        {
            Dim x = i < rank - a.Count ? Dim.Known(1) : a[i - (rank - a.Count)];
            Dim y = i < rank - b.Count ? Dim.Known(1) : b[i - (rank - b.Count)];
            result[i] = BroadcastDim(c, x, y);
        }
        return result;
    }

    private static Dim BroadcastDim(ShapeContext c, Dim x, Dim y)
    {
        if (x.Value == 1) return y;
        if (y.Value == 1) return x;
        if (x.IsKnown && y.IsKnown)
            return x.Value == y.Value ? x : throw c.Error($"cannot broadcast dimensions {x} and {y}");
        if (x.IsKnown) return x;
        if (y.IsKnown) return y;
        return x.Symbol is not null && x.Symbol == y.Symbol ? x : Dim.Unknown;
    }

    /// <summary>Broadcast of several shapes; null when any rank is unknown.</summary>
    public static Dim[]? Broadcast(ShapeContext c, IEnumerable<IReadOnlyList<Dim>?> shapes)
    {
        Dim[] result = [];
        foreach (var shape in shapes)
        {
            if (shape is null) return null;
            result = Broadcast(c, result, shape);
        }
        return result;
    }

    /// <summary>Product of dimensions; a single symbol times known 1s stays that symbol.</summary>
    public static Dim Product(IEnumerable<Dim> dims)
    {
        long known = 1;
        Dim? symbol = null;
        int symbolic = 0;
        foreach (var d in dims)
        {
            if (d.Value is long v) known = checked(known * v);
            else if (d.Symbol is null) return Dim.Unknown;
            else { symbol = d; symbolic++; }
        }
        if (known == 0) return Dim.Known(0);
        if (symbolic == 0) return Dim.Known(known);
        return symbolic == 1 && known == 1 ? symbol!.Value : Dim.Unknown;
    }

    /// <summary>
    /// Output size of a sliding window (convolution or pooling) along one axis; explicit pads are
    /// used unless <paramref name="autoPad"/> says otherwise.
    /// </summary>
    public static Dim Window(Dim input, long kernel, long stride, long dilation, long padBegin, long padEnd, string autoPad, bool ceilMode)
    {
        if (input.Value is not long n) return Dim.Unknown;
        long effective = (kernel - 1) * dilation + 1;
        switch (autoPad)
        {
            case "SAME_UPPER" or "SAME_LOWER":
                return Dim.Known(CeilDiv(n, stride));
            case "VALID":
                return Dim.Known(Math.Max(0, CeilDiv(n - effective + 1, stride)));
        }
        long span = n + padBegin + padEnd - effective;
        if (span < 0) return Dim.Known(0);
        long count = (ceilMode ? CeilDiv(span, stride) : span / stride) + 1;
        // As in PyTorch and ONNX Runtime: with ceil_mode a window may not start inside the end padding.
        if (ceilMode && (count - 1) * stride >= n + padBegin) count--;
        return Dim.Known(count);
    }

    public static long CeilDiv(long a, long b) => a / b + (a % b != 0 && (a < 0) == (b < 0) ? 1 : 0);
}
