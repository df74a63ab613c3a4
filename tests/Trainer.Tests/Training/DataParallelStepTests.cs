using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Artifacts;
using OnnxTrainer.Autodiff;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Tests.Fixtures;
using OnnxTrainer.Training;
using Xunit;

namespace OnnxTrainer.Tests.Training;

/// <summary>
/// A batch split into chunks run at once gives the unsplit step's loss, logits and gradients: a torchvision ResNet
/// (small width, every parameter training) with a dropout head fed masks, class weights and label smoothing, 7 images
/// in uneven chunks.
/// </summary>
public class DataParallelStepTests
{
    private const int Batch = 7;
    private static readonly long[] ImageShape = [Batch, 3, 64, 64];
    private static readonly float[] ClassWeights = [1f, 2.5f, 0.5f, 3f, 1f];

    private sealed record Case(Model Training, IReadOnlyList<(string Name, Tensor Value)> Parameters, IReadOnlyList<DropoutMask> Masks);

    private static Case Build()
    {
        var assembly = ClassifierAssembly.Build(ModelReader.Load(GeneratedFixtures.ModelPath("resnet_small")), BackboneCut.Head, ClassWeights.Length,
            hidden: [16], seed: 1, dropout: 0.3f);
        var (forward, masks) = HeadDropout.Masked(assembly.Model);
        var trainable = Parameters.Of(forward.Graph).Select(p => p.Name).ToList();
        var training = TrainingGraph.BuildTraining(forward, trainable, new LossOptions(LabelSmoothing: 0.1, ClassWeights: ClassWeights));
        return new Case(training, [.. trainable.Select(name => (name, forward.Graph[name].Initializer!))], masks);
    }

    /// <summary>The training graph's gradient outputs, name and shape, in parameter order.</summary>
    private static (string Name, long[] Dims)[] GradientOutputs(Case c) =>
        [.. c.Parameters.Select(p => (TrainingContract.Gradient(p.Name), p.Value.Dims))];

    private static (StepResult Result, Dictionary<string, float[]> Gradients) Run(Case c, int chunks, int threads)
    {
        var random = new Random(5);
        var images = Enumerable.Range(0, (int)Tensor.ElementCount(ImageShape)).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        long[] labels = [3, 0, 1, 1, 4, 2, 3];
        var masks = new DropoutMasks(c.Masks, seed: 9).Draw(Batch, epoch: 0, batch: 0);
        var parameters = c.Parameters.Select(p => (p.Name, Value: OrtValue.CreateTensorValueFromMemory(p.Value.ToFloats(), p.Value.Dims))).ToList();
        try
        {
            using var step = new DataParallelStep(ModelWriter.ToBytes(c.Training), new ExecutionOptions(Threads: threads), chunks,
                GradientOutputs(c), ClassWeights);
            Assert.Equal(chunks, step.Chunks);
            var result = step.Run(images, ImageShape, labels, parameters, masks);
            return (result, step.HostGradients().ToDictionary(g => g.Name, g => g.Data.ToArray()));
        }
        finally
        {
            foreach (var (_, value) in parameters) value.Dispose();
        }
    }

    private static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double error = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            error += (actual[i] - (double)expected[i]) * (actual[i] - (double)expected[i]);
            norm += (double)expected[i] * expected[i];
        }
        return Math.Sqrt(error / Math.Max(norm, 1e-30));
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(7, 2)]
    public void Chunked_EqualsWholeBatch(int chunks, int threads)
    {
        var c = Build();
        Assert.NotEmpty(c.Masks);
        var (whole, wholeGradients) = Run(c, chunks: 1, threads: 1);
        var (split, splitGradients) = Run(c, chunks, threads);

        Assert.Equal(Batch, split.Count);
        Assert.Equal(whole.Loss, split.Loss, 1e-5f * Math.Abs(whole.Loss));
        Assert.True(RelativeL2(split.Logits, whole.Logits) < 1e-5, $"logits differ by {RelativeL2(split.Logits, whole.Logits):E2}");
        Assert.Equal(c.Parameters.Count, wholeGradients.Count);
        foreach (var (name, expected) in wholeGradients)
        {
            Assert.True(expected.Any(v => v != 0), $"'{name}' has no gradient");
            double error = RelativeL2(splitGradients[name], expected);
            Assert.True(error < 1e-4, $"'{name}': relative L2 error {error:E2}");
        }
    }

    [Fact]
    public void ChunkFailure_SurfacesAsTheRuntimeError()
    {
        var c = Build();
        var parameters = c.Parameters.Select(p => (p.Name, Value: OrtValue.CreateTensorValueFromMemory(p.Value.ToFloats(), p.Value.Dims))).ToList();
        try
        {
            using var step = new DataParallelStep(ModelWriter.ToBytes(c.Training), new ExecutionOptions(Threads: 2), 2,
                GradientOutputs(c));
            // No dropout masks fed: every chunk's run fails, and the caller sees ONNX Runtime's own error.
            var e = Assert.Throws<OnnxRuntimeException>(() => step.Run(new float[Tensor.ElementCount(ImageShape)], ImageShape, new long[Batch], parameters));
            Assert.Contains(c.Masks[0].Name, e.Message);
        }
        finally
        {
            foreach (var (_, value) in parameters) value.Dispose();
        }
    }

    [Fact]
    public void ExtraOutputs_NeedOneChunk()
    {
        var c = Build();
        Assert.Throws<ArgumentException>(() => new DataParallelStep(ModelWriter.ToBytes(c.Training), new ExecutionOptions(Threads: 2), 2,
            GradientOutputs(c), extraOutputs: ["batch_mean"]));
    }
}
