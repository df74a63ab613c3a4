namespace OnnxTrainer.Ir.Upgrade;

/// <summary>
/// Softmax, LogSoftmax and Hardmax before 13 flattened the input to 2-D at <c>axis</c> (default 1) and normalized each
/// row over all the axes from <c>axis</c> on; from 13 they normalize along the one axis (default -1). When that axis
/// is the last the two agree; otherwise the old meaning is kept by flattening, normalizing the last axis and reshaping back.
/// </summary>
internal static class SoftmaxAdapter
{
    public static void Adapt(AdapterContext c)
    {
        long axis = c.Take("axis")?.I ?? 1;
        c.Node.Attributes["axis"] = Attribute.Of("axis", -1L);
        var x = c.Node.Input(0)!;
        if (x.Type?.Rank is int rank && (axis == rank - 1 || axis == -1)) return;
        c.Rewrite([c.Op("Flatten", [x], Attribute.Of("axis", axis))]);
        c.InsertAfter(c.Node.Output(), rows => c.Reshape(rows, c.Shape(x)));
    }
}
