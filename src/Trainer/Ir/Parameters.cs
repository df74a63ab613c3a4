namespace OnnxTrainer.Ir;

/// <summary>
/// Which initializers are learnable parameters, in the sense of torch's <c>model.parameters()</c>, so that
/// counts agree with the framework a backbone came from. A parameter is a floating-point initializer that
/// some node reads in a weight-like slot. Not parameters: BatchNormalization's running mean and variance
/// (torch buffers), constants that only feed operator settings (Clip bounds, Pad values, Resize scales, Dropout ratios),
/// integer tensors (shapes, indices, num_batches_tracked) and initializers nothing reads.
/// </summary>
public static class Parameters
{
    /// <summary>Input slots of standard operators that hold statistics or settings, never learned weights.</summary>
    private static readonly Dictionary<string, int[]> NonParameterSlots = new(StringComparer.Ordinal)
    {
        ["BatchNormalization"] = [3, 4],
        ["Clip"] = [1, 2],
        ["Dropout"] = [1],
        ["Pad"] = [2],
        ["Resize"] = [1, 2],
        ["Upsample"] = [1],
    };

    private static bool IsParameter(Value value) =>
        value.Initializer is { } data && data.ElementType.IsFloatingPoint() && value.Users.Any(user => ReadsAsWeight(user, value));

    /// <summary>True for BatchNormalization running statistics (inputs 3 and 4), which training must not update by gradient.</summary>
    public static bool IsRunningStatistic(Value value) =>
        value.Users.Any(n => n.OpType == "BatchNormalization" && n.Domain.Length == 0 &&
                             (ReferenceEquals(n.Input(3), value) || ReferenceEquals(n.Input(4), value)));

    /// <summary>The parameters of a graph in initializer order.</summary>
    public static IEnumerable<Value> Of(Graph graph) => graph.Initializers.Where(IsParameter);

    /// <summary>Total number of parameter elements (what torch reports as the parameter count).</summary>
    public static long Count(Graph graph) => Of(graph).Sum(v => v.Initializer!.ElementCount());

    private static bool ReadsAsWeight(Node user, Value value)
    {
        if (user.Domain.Length != 0 || !NonParameterSlots.TryGetValue(user.OpType, out var slots)) return true;
        for (int i = 0; i < user.Inputs.Count; i++)
            if (ReferenceEquals(user.Inputs[i], value) && !slots.Contains(i)) return true;
        return false;
    }
}
