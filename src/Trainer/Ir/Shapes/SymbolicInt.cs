namespace OnnxTrainer.Ir.Shapes;

/// <summary>
/// One element of an integer tensor computed during inference: a known number (any sign, unlike
/// <see cref="Dim"/>), a named symbol such as the batch size, or unknown (default).
/// </summary>
internal readonly record struct SymbolicInt(long? Value, string? Symbol)
{
    public static SymbolicInt Known(long value) => new(value, null);

    public static SymbolicInt FromDim(Dim dim) => new(dim.Value, dim.Symbol);

    public bool IsKnown => Value.HasValue;

    /// <summary>As a dimension; negative numbers (only meaningful to Reshape) become unknown.</summary>
    public Dim ToDim() => Value is long v ? (v >= 0 ? Dim.Known(v) : Dim.Unknown) : Symbol is null ? Dim.Unknown : Dim.Named(Symbol);
}
