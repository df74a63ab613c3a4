using OnnxTrainer.Ir.Shapes;

namespace OnnxTrainer.Ir.Upgrade;

/// <summary>
/// Brings a model from an older ai.onnx opset to the one the trainer works in, in memory and one version at a
/// time: at each version, every node whose operator changed meaning or form there is rewritten by its adapter
/// (<see cref="OpsetAdapters"/>), so the graph computes what it computed before. Nodes of other domains are left alone.
/// </summary>
public static class OpsetUpgrade
{
    /// <summary>
    /// The oldest opset read: 6 is where every operator lost its <c>consumed_inputs</c> attribute, and where ONNX's
    /// own PyTorch-converted test models sit; CNTK, Caffe2 and early PyTorch exports are at 6 to 9.
    /// </summary>
    public const long OldestOpset = 6;

    /// <summary>
    /// 17: every attribute that became an input (last: Squeeze, Unsqueeze, ReduceSum and Split axes at 13), the
    /// N-D Softmax (13) and the BatchNormalization outputs (14) that our graph passes and gradient rules emit and read
    /// are behind it; LayerNormalization (ConvNeXt) exists from 17; and 17 is what the test fixtures are exported at.
    /// 18 would only move the axes of the other reductions into inputs too.
    /// </summary>
    public const long WorkingOpset = 17;

    /// <summary>The newest ai.onnx opset that the ONNX Runtime we ship with (1.32; 1.31 ran 26) runs; a test holds the two together.</summary>
    public const long NewestOpset = 28;

    /// <summary>Upgrades <paramref name="model"/> in place to <see cref="WorkingOpset"/> (newer models are left as they are).</summary>
    /// <returns>The opset the model had before.</returns>
    public static long Apply(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        long original = model.OpsetVersion;
        if (original > NewestOpset)
            throw new GraphException($"the model uses opset {original}, newer than the {NewestOpset} that ONNX Runtime here runs");
        if (original >= WorkingOpset) return original;
        if (original < OldestOpset)
            throw new GraphException($"the model uses opset {original}; models from opset {OldestOpset} upward are read (re-export it, e.g. torch.onnx.export(..., opset_version={WorkingOpset}))");
        var graph = model.Graph;
        foreach (var node in graph.Nodes.Where(n => n.Domain.Length == 0))
            if (!OpsetAdapters.Knows(node.OpType))
                throw new GraphException($"node '{node.Name}' ({node.OpType}) at opset {original}: the opset upgrader does not know this operator, so the model cannot be brought to opset {WorkingOpset} (re-export it at opset {WorkingOpset})");

        bool inferred = false;
        for (long version = original + 1; version <= WorkingOpset; version++)
        {
            long at = version;
            bool InferShapes()
            {
                if (inferred) return false;
                inferred = true;
                try { ShapeInference.Run(graph, at - 1); }
                catch (GraphException) { } // best effort: an adapter that needs a rank says so if it is still unknown
                return true;
            }
            foreach (var node in graph.Nodes.Where(n => n.Domain.Length == 0).ToList())
                if (OpsetAdapters.Find(node.OpType, version) is { } adapter)
                    adapter(new AdapterContext(graph, node, version, InferShapes));
        }
        model.Opsets.Remove("ai.onnx");
        model.Opsets[""] = WorkingOpset;
        // IR 8 is the version opset 17 came with; from IR 4 on, initializers are no longer listed among the inputs.
        model.IrVersion = Math.Max(model.IrVersion, 8);
        graph.SortTopologically();
        return original;
    }
}
