namespace OnnxTrainer.Ir.Shapes;

/// <summary>Transpose: output axis i is input axis perm[i]; no perm reverses the axes.</summary>
internal sealed class TransposeRule : IShapeRule
{
    public TensorType?[] Infer(ShapeContext c)
    {
        var type = c.ElementType(0);
        if (c.Shape(0) is not { } x) return c.Outputs(new TensorType(type, null));
        var perm = c.Ints("perm") ?? Enumerable.Range(0, x.Count).Reverse().Select(i => (long)i).ToArray();
        if (perm.Count != x.Count || perm.Distinct().Count() != perm.Count)
            throw c.Error($"perm [{string.Join(", ", perm)}] is not a permutation of {x.Count} axes");
        return c.Outputs(new TensorType(type, perm.Select(p => x[c.Axis(p, x.Count)]).ToArray()));
    }
}
