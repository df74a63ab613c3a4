using OnnxTrainer.Data;
using OnnxTrainer.Export;
using OnnxTrainer.Inference;
using OnnxTrainer.Inference.Preprocessing;
using OnnxTrainer.Ir;
using OnnxTrainer.Tests.Data;
using SkiaSharp;
using Xunit;

namespace OnnxTrainer.Tests.Export;

/// <summary>The shipped pair: a model.onnx from the exporter, loaded by the Inference library with nothing but its path.</summary>
public sealed class ExportedClassifierInferenceTests : IDisposable
{
    private readonly TemporaryDirectory _tree = new();
    private readonly ImageDataset _dataset;
    private readonly string _modelPath;

    public ExportedClassifierInferenceTests()
    {
        // Mixed sizes, formats and channels, so resize, crop and channel conversion all take part.
        for (int i = 0; i < 8; i++)
        {
            var bytes = (i % 3) switch
            {
                0 => TemporaryDirectory.Picture(i, width: 90 + i, height: 70),
                1 => TemporaryDirectory.Picture(i, SKEncodedImageFormat.Jpeg, width: 64, height: 100, grayscale: true),
                _ => TemporaryDirectory.Picture(i, width: 80, height: 80, alpha: true),
            };
            _tree.Write($"{TrainedClassifier.Create().Export.Labels[i % 4]}/{i}.{(i % 3 == 1 ? "jpg" : "png")}", bytes);
        }
        _dataset = ImageDataset.FromFolder(_tree.Root);
        var run = TrainedClassifier.Create(labels: _dataset.Classes);
        _modelPath = Path.Combine(_tree.Root, "model.onnx");
        ClassifierExporter.Save(run.Forward, run.Parameters, run.Export, _modelPath);
    }

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Load_ExportedModel_PreprocessingEqualsTheTrainersDataLoaderOnSameImages()
    {
        using var classifier = ImageClassifier.Load(_modelPath, new ClassifierOptions { TopK = int.MaxValue });
        var loader = new DataLoader(_dataset, TrainedClassifier.Preprocessing, new DataLoaderOptions { BatchSize = _dataset.Count });
        var batch = loader.ReadEpoch(0).Single();
        var preprocessor = new ImagePreprocessor(classifier.Preprocessing);
        int length = classifier.Preprocessing.TensorLength;

        // Tensors: the library's decode + preprocess against the loader's, bit for bit.
        var tensor = new float[length];
        for (int i = 0; i < batch.Count; i++)
        {
            string path = _dataset.Samples[batch.SampleIndices[i]].Source;
            preprocessor.Preprocess(ImageDecoder.DecodeFile(path, classifier.Preprocessing.Channels), tensor);
            Assert.Equal(batch.Images.AsSpan(i * length, length).ToArray(), tensor);
        }

        // Answers: the library from file paths against the model run on the loader's batch.
        using var runner = new OrtRunner(OnnxTrainer.Onnx.ModelReader.Load(_modelPath));
        var probabilities = runner.Run(new Dictionary<string, (DataType, long[], double[])>
        {
            ["input"] = (DataType.Float, batch.Shape, Array.ConvertAll(batch.Images, v => (double)v)),
        })[1].Data;
        var predictions = classifier.ClassifyBatch([.. batch.SampleIndices.Select(i => _dataset.Samples[i].Source)]);
        int classes = _dataset.Classes.Count;
        for (int i = 0; i < batch.Count; i++)
            foreach (var prediction in predictions[i])
                Assert.Equal(probabilities[i * classes + prediction.Index], prediction.Probability, 1e-5);
    }

    [Fact]
    public void Load_ExportedModel_LabelsAreTheDatasetClassesInOutputOrder()
    {
        using var classifier = ImageClassifier.Load(_modelPath);
        Assert.Equal(_dataset.Classes, classifier.Labels);
        Assert.Equal(TrainedClassifier.Preprocessing, classifier.Preprocessing);
        Assert.All(classifier.Classify(_dataset.Samples[0].Source), p => Assert.Equal(_dataset.Classes[p.Index], p.Label));
    }
}
