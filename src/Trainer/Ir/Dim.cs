namespace OnnxTrainer.Ir;

/// <summary>One dimension of a tensor shape: a known size, a named symbol (e.g. "batch"), or unknown.</summary>
public readonly record struct Dim
{
    public long? Value { get; }
    public string? Symbol { get; }

    private Dim(long? value, string? symbol)
    {
        Value = value;
        Symbol = symbol;
    }

    public static Dim Known(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        return new Dim(value, null);
    }

    public static Dim Named(string symbol) => new(null, symbol);

    public static readonly Dim Unknown = new(null, null);

    public bool IsKnown => Value.HasValue;

    public static implicit operator Dim(long value) => Known(value);

    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Symbol ?? "?";
}
