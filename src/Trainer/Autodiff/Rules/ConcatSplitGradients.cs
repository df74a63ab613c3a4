using OnnxTrainer.Ir;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Autodiff.Rules;

/// <summary>
/// Concat: one Split of the upstream gradient back into the inputs' extents along the axis (one node
/// instead of one Slice per input). Inputs that need no gradient still get their piece cut, then dropped.
/// </summary>
internal sealed class ConcatGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        int count = c.Node.Inputs.Count;
        if (count == 1) return [c.GO(0)];
        int rank = c.RankOf(c.O(0));
        long axis = c.Attr("axis", 0);
        if (axis < 0) axis += rank;

        var dims = c.Node.Inputs.Select(input => c.ShapeOf(input!)[(int)axis]).ToList();
        var attributes = new List<Attribute> { Attribute.Of("axis", axis) };
        var inputs = new List<Value?> { c.GO(0) };
        if (dims.All(d => d.IsKnown))
        {
            long[] sizes = [.. dims.Select(d => d.Value!.Value)];
            if (c.Opset >= 13) inputs.Add(c.Ints(sizes));
            else attributes.Add(Attribute.Of("split", sizes));
        }
        else if (c.Opset >= 13)
        {
            // A symbolic extent on the concat axis (e.g. concatenating along the batch): read the sizes at run time.
            var sizes = c.Node.Inputs.Select(input => c.Slice(c.Shape(input!), [axis], [axis + 1], [0])).ToList();
            inputs.Add(c.Op("Concat", sizes, Attribute.Of("axis", 0L)));
        }
        else
        {
            throw new GraphException($"{c.Node}: the inputs' extents along axis {axis} must be known to split the gradient before opset 13");
        }

        var pieces = c.OpN("Split", inputs, count, [.. attributes]);
        return [.. pieces.Select((piece, i) => c.NeedsGradient(i) ? piece : null)];
    }
}

/// <summary>Split: the input's gradient is the outputs' gradients concatenated back, zeros for outputs nobody used.</summary>
internal sealed class SplitGradient : IGradientRule
{
    public Value?[] Build(GradientContext c)
    {
        int outputs = c.Node.Outputs.Count;
        var extra = Enumerable.Repeat<Value?>(null, c.Node.Inputs.Count - 1);
        if (outputs == 1) return [c.GO(0), .. extra];
        long axis = c.Attr("axis", 0);
        if (axis < 0) axis += c.RankOf(c.I(0));
        var pieces = Enumerable.Range(0, outputs).Select(c.GOOrZeros).ToList();
        return [c.Op("Concat", pieces, Attribute.Of("axis", axis)), .. extra];
    }
}
