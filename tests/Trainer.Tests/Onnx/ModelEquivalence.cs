using OnnxTrainer.Ir;
using Xunit;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Tests.Onnx;

/// <summary>Asserts that two models hold the same graph: nodes (matched by name), initializer bytes, inputs, outputs, opsets, metadata.</summary>
internal static class ModelEquivalence
{
    public static void AssertSame(Model expected, Model actual)
    {
        Assert.Equal(expected.IrVersion, actual.IrVersion);
        Assert.Equal(expected.Opsets.OrderBy(kv => kv.Key), actual.Opsets.OrderBy(kv => kv.Key));
        Assert.Equal(expected.Metadata, actual.Metadata);
        Assert.Equal(expected.ProducerName, actual.ProducerName);
        Assert.Equal(expected.ProducerVersion, actual.ProducerVersion);
        Assert.Equal(expected.Functions.Count, actual.Functions.Count);

        var a = expected.Graph;
        var b = actual.Graph;
        Assert.Equal(a.Name, b.Name);
        AssertValues(a.Inputs, b.Inputs);
        AssertValues(a.Outputs, b.Outputs);

        var initA = a.Initializers.ToList();
        var initB = b.Initializers.ToDictionary(v => v.Name);
        Assert.Equal(initA.Count, initB.Count);
        foreach (var value in initA)
        {
            Assert.True(initB.TryGetValue(value.Name, out var other), $"initializer '{value.Name}' is missing");
            AssertTensor(value.Initializer!, other!.Initializer!, $"initializer '{value.Name}'");
        }

        // Node order may differ between two topological sorts; names are unique, so match by name.
        var nodesB = b.Nodes.ToDictionary(n => n.Name);
        Assert.Equal(a.Nodes.Count, nodesB.Count);
        foreach (var node in a.Nodes)
        {
            Assert.True(nodesB.TryGetValue(node.Name, out var other), $"node '{node.Name}' is missing");
            Assert.Equal(node.OpType, other!.OpType);
            Assert.Equal(node.Domain, other.Domain);
            Assert.Equal(node.Inputs.Select(v => v?.Name), other.Inputs.Select(v => v?.Name));
            Assert.Equal(node.Outputs.Select(v => v.Name), other.Outputs.Select(v => v.Name));
            Assert.Equal(node.Outputs.Select(v => v.Type), other.Outputs.Select(v => v.Type));
            Assert.Equal(node.Attributes.Keys.Order(), other.Attributes.Keys.Order());
            foreach (var (name, attribute) in node.Attributes)
                AssertAttribute(attribute, other.Attributes[name], $"node '{node.Name}' attribute '{name}'");
        }
    }

    private static void AssertValues(IReadOnlyList<Value> expected, IReadOnlyList<Value> actual)
    {
        Assert.Equal(expected.Select(v => v.Name), actual.Select(v => v.Name));
        Assert.Equal(expected.Select(v => v.Type), actual.Select(v => v.Type));
    }

    private static void AssertTensor(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.ElementType, actual.ElementType);
        Assert.Equal(expected.Dims, actual.Dims);
        Assert.True(expected.Data.Span.SequenceEqual(actual.Data.Span), $"{what}: bytes differ");
        Assert.Equal(expected.Strings?.Select(Convert.ToHexString), actual.Strings?.Select(Convert.ToHexString));
    }

    private static void AssertAttribute(Attribute expected, Attribute actual, string what)
    {
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(BitConverter.SingleToInt32Bits(expected.F), BitConverter.SingleToInt32Bits(actual.F));
        Assert.Equal(expected.I, actual.I);
        Assert.Equal(expected.S, actual.S);
        Assert.Equal(expected.Floats.Select(BitConverter.SingleToInt32Bits), actual.Floats.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(expected.Ints, actual.Ints);
        Assert.Equal(expected.Strings, actual.Strings);
        Assert.Equal(expected.T is null, actual.T is null);
        if (expected.T is not null) AssertTensor(expected.T, actual.T!, what);
        Assert.Equal(expected.Tensors.Count, actual.Tensors.Count);
        for (int i = 0; i < expected.Tensors.Count; i++) AssertTensor(expected.Tensors[i], actual.Tensors[i], what);
        Assert.Equal(expected.Opaque, actual.Opaque);
    }
}
