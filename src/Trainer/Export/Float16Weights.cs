using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Export;

/// <summary>
/// Halves a model's size: float weights are stored as float16 and cast back to float where they are read.
/// Compute stays float32, so the model runs on every execution provider (ONNX Runtime folds the casts
/// at load time); inputs, outputs and metadata are unchanged.
/// </summary>
public static class Float16Weights
{
    /// <summary>Weights smaller than this stay float: the cast would cost more than it saves.</summary>
    private const int MinimumElements = 16;

    public static Model Convert(Model model)
    {
        var copy = model.Clone();
        var graph = copy.Graph;
        foreach (var value in graph.Initializers.Where(Convertible).ToList())
        {
            var values = value.Initializer!.ToFloats();
            var stored = graph.AddInitializer(graph.FreshName(value.Name + ".fp16"), Tensor.FromHalfs(value.Initializer.Dims, Array.ConvertAll(values, v => (Half)v)));
            var cast = graph.AddNode("Cast", [stored], [value.Name + ".fp32"], [Attribute.Of("to", (long)DataType.Float)], name: graph.FreshName(value.Name + ".cast")).Output(0);
            cast.Type = value.Type;
            graph.ReplaceAllUsesWith(value, cast);
        }
        graph.RemoveDeadNodes();
        return copy;
    }

    /// <summary>Float weights whose values all fit float16's range (no infinities from a mask or a bound).</summary>
    private static bool Convertible(Value value) =>
        value.Initializer is { ElementType: DataType.Float } tensor && tensor.ElementCount() >= MinimumElements
        && tensor.Span<float>().ToArray().All(v => float.IsFinite(v) && Math.Abs(v) <= (float)Half.MaxValue);
}
