namespace OnnxTrainer.Ir;

/// <summary>Element type and shape of a value. <see cref="Shape"/> is null when even the rank is unknown.</summary>
public sealed record TensorType(DataType ElementType, IReadOnlyList<Dim>? Shape)
{
    public int? Rank => Shape?.Count;

    public bool IsFullyKnown => Shape is not null && Shape.All(d => d.IsKnown);

    /// <summary>The shape as numbers, or null when any dimension is not known.</summary>
    public long[]? KnownDims => IsFullyKnown ? Shape!.Select(d => d.Value!.Value).ToArray() : null;

    public static TensorType Of(DataType type, params long[] dims) => new(type, dims.Select(Dim.Known).ToArray());

    public override string ToString() =>
        $"{ElementType.OnnxName()}[{(Shape is null ? "?" : string.Join(", ", Shape))}]";

    public bool Equals(TensorType? other) =>
        other is not null && ElementType == other.ElementType &&
        (Shape is null ? other.Shape is null : other.Shape is not null && Shape.SequenceEqual(other.Shape));

    public override int GetHashCode() => HashCode.Combine(ElementType, Shape?.Count);
}
