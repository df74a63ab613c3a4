using OnnxTrainer.Artifacts;
using OnnxTrainer.Autodiff;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using Xunit;

namespace OnnxTrainer.Tests.Autodiff;

/// <summary>
/// The shared numerical gradient checker. A test declares inputs (seeded random data), builds the
/// forward graph with <see cref="Builder"/>, and calls <see cref="Verify"/>: the outputs are reduced
/// to a scalar loss = sum(output * R) with random R, computed in float64 even when the op runs in
/// float32, and the builder's gradients (run in ONNX Runtime) are compared with central differences.
/// </summary>
internal sealed class GradientCheck
{
    private readonly Model _model = new();
    private readonly Random _random;
    private readonly Dictionary<string, (DataType Type, long[] Shape, double[] Data)> _feeds = [];
    private readonly List<Value> _differentiable = [];

    public GradientCheck(DataType type = DataType.Double, long opset = 17, int seed = 1234)
    {
        Type = type;
        _model.Opsets[""] = opset;
        _random = new Random(seed);
        Builder = new GraphBuilder(_model.Graph, opset, "test");
    }

    public DataType Type { get; }
    public GraphBuilder Builder { get; }
    public Graph Graph => _model.Graph;

    /// <summary>A differentiable graph input filled with uniform values in [low, high).</summary>
    public Value Input(string name, long[] shape, double low = -1, double high = 1) =>
        Input(name, shape, Enumerable.Range(0, (int)Tensor.ElementCount(shape)).Select(_ => low + (high - low) * _random.NextDouble()).ToArray());

    public Value Input(string name, long[] shape, double[] data)
    {
        var value = Graph.AddInput(name, TensorType.Of(Type, shape));
        _feeds[name] = (Type, shape, data);
        _differentiable.Add(value);
        return value;
    }

    /// <summary>A graph input that is fed but not differentiated (e.g. a frozen tensor computed upstream).</summary>
    public Value FixedInput(string name, long[] shape, double low = -1, double high = 1)
    {
        var value = Input(name, shape, low, high);
        _differentiable.Remove(value);
        return value;
    }

    /// <summary>An int64 graph input (class labels, indices); never differentiated.</summary>
    public Value Labels(string name, long[] values)
    {
        var value = Graph.AddInput(name, TensorType.Of(DataType.Int64, values.Length));
        _feeds[name] = (DataType.Int64, [values.Length], Array.ConvertAll(values, v => (double)v));
        return value;
    }

    /// <summary>Runs the graph's current outputs once and returns their values.</summary>
    public List<(double[] Data, long[] Shape)> Evaluate(params Value[] outputs)
    {
        Graph.Outputs.Clear();
        Graph.Outputs.AddRange(outputs);
        using var runner = new OrtRunner(_model);
        var results = runner.Run(_feeds);
        Graph.Outputs.Clear();
        return results;
    }

    /// <summary>A constant initializer of the check's element type.</summary>
    public Value Constant(string name, long[] shape, double[] data) =>
        Graph.AddInitializer(name, Type == DataType.Double ? Tensor.FromDoubles(shape, data) : Tensor.FromFloats(shape, Array.ConvertAll(data, v => (float)v)));

    public double[] RandomData(long[] shape, double low = -1, double high = 1) =>
        Enumerable.Range(0, (int)Tensor.ElementCount(shape)).Select(_ => low + (high - low) * _random.NextDouble()).ToArray();

    /// <summary>
    /// Checks every differentiable input's gradient: |analytic - numeric| &lt;= atol + rtol * |numeric| per element.
    /// At most <paramref name="maxElements"/> elements per input are perturbed (a seeded random subset).
    /// </summary>
    public void Verify(IReadOnlyList<Value> outputs, double rtol, double atol, double epsilon = 1e-6, int maxElements = 300)
    {
        LearnTypes();
        var loss = BuildLoss(outputs);
        LearnTypes();
        Graph.Outputs.Add(loss);
        var forward = ModelWriter.ToBytes(_model);
        var gradients = GradientBuilder.Build(Graph, _model.OpsetVersion, loss, _differentiable, TrainingContract.Gradient);
        Assert.Equal(_differentiable.Count, gradients.Count);

        List<(double[] Data, long[] Shape)> analytic;
        using (var runner = new OrtRunner(_model)) analytic = runner.Run(_feeds);
        using var forwardRunner = new OrtRunner(ModelReader.Load(forward));
        for (int p = 0; p < _differentiable.Count; p++)
        {
            var input = _differentiable[p];
            var (_, shape, data) = _feeds[input.Name];
            Assert.Equal(shape, analytic[p + 1].Shape);
            foreach (int index in SampleIndices(data.Length, maxElements))
            {
                double saved = data[index];
                data[index] = saved + epsilon;
                double plus = forwardRunner.Run(_feeds)[0].Data[0];
                data[index] = saved - epsilon;
                double minus = forwardRunner.Run(_feeds)[0].Data[0];
                data[index] = saved;
                double numeric = (plus - minus) / (2 * epsilon);
                double actual = analytic[p + 1].Data[index];
                Assert.True(Math.Abs(actual - numeric) <= atol + rtol * Math.Abs(numeric),
                    $"d loss / d {input.Name}[{index}]: builder {actual:G9}, numerical {numeric:G9}");
            }
        }
    }

    /// <summary>Sets every node output's type from what the runtime computes, so checks do not depend on shape inference.</summary>
    private void LearnTypes()
    {
        var values = Graph.Nodes.SelectMany(n => n.Outputs).ToList();
        Graph.Outputs.AddRange(values);
        using (var probe = new OrtRunner(_model, Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_DISABLE_ALL))
        {
            var results = probe.RunTyped(_feeds);
            for (int i = 0; i < values.Count; i++) values[i].Type = results[i];
        }
        Graph.Outputs.Clear();
    }

    public void Verify(Value output, double rtol, double atol, double epsilon = 1e-6, int maxElements = 300) =>
        Verify([output], rtol, atol, epsilon, maxElements);

    private Value BuildLoss(IReadOnlyList<Value> outputs)
    {
        var terms = new List<Value>();
        foreach (var output in outputs)
        {
            var shape = output.Type!.KnownDims!;
            var weights = Graph.AddInitializer(Graph.FreshName("loss_weights"), Tensor.FromDoubles(shape, RandomData(shape)));
            var asDouble = Type == DataType.Double ? output : Builder.Cast(output, DataType.Double);
            var product = Builder.Mul(asDouble, weights);
            terms.Add(Builder.ReduceSum(product, [.. Enumerable.Range(0, shape.Length).Select(a => (long)a)], keepDims: false));
        }
        var loss = Builder.Sum(terms);
        loss.Type = TensorType.Of(DataType.Double);
        return loss;
    }

    private IEnumerable<int> SampleIndices(int count, int max) =>
        count <= max ? Enumerable.Range(0, count) : Enumerable.Range(0, count).OrderBy(_ => _random.Next()).Take(max).Order();
}
