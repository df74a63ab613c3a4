using OnnxTrainer.Inference.Preprocessing;
using SkiaSharp;

namespace OnnxTrainer.Inference.Tests;

public sealed class ImageClassifierTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("image-classifier-tests-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Load_ExportedModel_ReadsLabelsAndPreprocessingFromMetadata()
    {
        using var classifier = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata()));

        Assert.Equal(TinyClassifierModel.Labels, classifier.Labels);
        Assert.Equal(TinyClassifierModel.Preprocessing, classifier.Preprocessing);
        Assert.Equal("name: tiny\n", classifier.Metadata[ClassifierMetadata.Recipe]);
    }

    [Fact]
    public void Classify_SameImageAsEveryKindOfInput_SameAnswer()
    {
        using var classifier = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata()), new ClassifierOptions { TopK = 4 });
        var png = Picture(seed: 3);
        var path = WriteFile("picture.png", png);
        var decoded = ImageDecoder.Decode(png, ChannelFormat.Rgb);

        var expected = classifier.Classify(path);
        using var stream = new MemoryStream(png);
        Assert.Equal(expected, classifier.Classify(stream));
        Assert.Equal(expected, classifier.Classify(png.AsSpan()));
        Assert.Equal(expected, classifier.Classify(decoded));
        foreach (var format in Enum.GetValues<RawPixelFormat>())
        {
            var (pixels, stride) = Raw(decoded, format, padding: 5);
            Assert.Equal(expected, classifier.Classify(pixels, format, decoded.Width, decoded.Height, stride));
        }

        Assert.Equal(4, expected.Count);
        Assert.Equal(1f, expected.Sum(p => p.Probability), 1e-5f);
        Assert.True(expected.Zip(expected.Skip(1)).All(pair => pair.First.Probability >= pair.Second.Probability));
    }

    [Fact]
    public void ClassifyBatch_SeveralImages_SameAsOneAtATime()
    {
        using var classifier = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata()), new ClassifierOptions { MaxBatchSize = 3 });
        var paths = Enumerable.Range(0, 7).Select(i => WriteFile($"{i}.png", Picture(i))).ToList();

        var batched = classifier.ClassifyBatch(paths);

        Assert.Equal(paths.Count, batched.Count);
        for (var i = 0; i < paths.Count; i++)
        {
            AssertSame(classifier.Classify(paths[i]), batched[i]);
        }
    }

    [Fact]
    public void Classify_ManyThreadsAtOnce_SameAnswersAsOneThread()
    {
        using var classifier = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata()));
        var images = Enumerable.Range(0, 16).Select(i => ImageDecoder.Decode(Picture(i), ChannelFormat.Rgb)).ToArray();
        var expected = images.Select(classifier.Classify).ToArray();

        var actual = new IReadOnlyList<Prediction>[8, images.Length];
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            for (var round = 0; round < 5; round++)
            {
                for (var i = 0; i < images.Length; i++)
                {
                    var index = (i + t * 3) % images.Length;
                    actual[t, index] = classifier.Classify(images[index]);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        for (var t = 0; t < 8; t++)
        {
            for (var i = 0; i < images.Length; i++)
            {
                Assert.Equal(expected[i], actual[t, i]);
            }
        }
    }

    [Fact]
    public void Classify_SteadyState_AllocatesLessThanOneInputTensorPerCall()
    {
        using var classifier = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata()), new ClassifierOptions { Threads = 1 });
        var image = ImageDecoder.Decode(Picture(1), ChannelFormat.Rgb);
        for (var i = 0; i < 5; i++)
        {
            classifier.Classify(image);
        }

        const int calls = 20;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < calls; i++)
        {
            classifier.Classify(image);
        }

        var perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / calls;
        Assert.True(perCall < TinyClassifierModel.Preprocessing.TensorLength * sizeof(float), $"{perCall} bytes per call");
    }

    [Fact]
    public void Classify_ModelWithLogitsOnly_AppliesSoftmax()
    {
        using var full = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata()));
        using var logitsOnly = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata(), withProbabilities: false));
        var image = ImageDecoder.Decode(Picture(2), ChannelFormat.Rgb);

        AssertSame(full.Classify(image), logitsOnly.Classify(image));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ClassifyBatch_ModelWithFixedBatch_RunsFullBatchesSameAnswers(int batch)
    {
        using var dynamic = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata()));
        using var fixedBatch = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata(), fixedBatch: batch));
        var images = Enumerable.Range(0, 3).Select(i => ImageDecoder.Decode(Picture(i), ChannelFormat.Rgb)).ToArray();

        var expected = dynamic.ClassifyBatch(images);
        var actual = fixedBatch.ClassifyBatch(images);

        for (var i = 0; i < images.Length; i++)
        {
            AssertSame(expected[i], actual[i]);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(100, 4)]
    public void Classify_TopK_ReturnsThatManyClampedToClassCount(int topK, int expected)
    {
        using var classifier = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata()), new ClassifierOptions { TopK = topK });
        Assert.Equal(expected, classifier.Classify(Picture(0).AsSpan()).Count);
    }

    [Fact]
    public void Load_ModelWithoutMetadataAndNoOptions_ErrorSaysWhatToPass()
    {
        var path = WriteModel(metadata: null);
        var error = Assert.Throws<FormatException>(() => ImageClassifier.Load(path));
        Assert.Contains("input_size", error.Message);
        Assert.Contains("ClassifierOptions.Preprocessing", error.Message);
    }

    [Fact]
    public void Load_ModelWithoutMetadataGivenLabelsAndPreprocessing_ClassifiesAsWithMetadata()
    {
        using var withMetadata = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata()));
        using var explicitOptions = ImageClassifier.Load(
            WriteModel(metadata: null),
            new ClassifierOptions { Labels = TinyClassifierModel.Labels, Preprocessing = TinyClassifierModel.Preprocessing });

        Assert.Equal(withMetadata.Classify(Picture(4).AsSpan()), explicitOptions.Classify(Picture(4).AsSpan()));
    }

    [Theory]
    [InlineData("mean", "[0.5, \"x\", 0.4]")]
    [InlineData("std", "0.2")]
    [InlineData("input_size", "[32]")]
    [InlineData("resize", "big")]
    [InlineData("channels", "CMYK")]
    [InlineData("labels", "{\"a\": 1}")]
    [InlineData("labels", "[\"only\", \"three\", \"labels\"]")]
    public void Load_MalformedMetadata_ErrorNamesTheKey(string key, string value)
    {
        var metadata = TinyClassifierModel.Metadata();
        metadata[key] = value;
        var path = WriteModel(metadata);

        var error = Assert.Throws<FormatException>(() => ImageClassifier.Load(path));

        Assert.Contains($"'{key}'", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Load_PreprocessingOfAnotherInputSize_ClearError()
    {
        var path = WriteModel(metadata: null);
        var options = new ClassifierOptions { Labels = TinyClassifierModel.Labels, Preprocessing = PreprocessingSpec.ImageNet() };
        var error = Assert.Throws<ArgumentException>(() => ImageClassifier.Load(path, options));
        Assert.Contains("3, 224, 224", error.Message);
    }

    [Fact]
    public void Load_CorruptModelFile_FormatErrorNamingTheFile()
    {
        var path = WriteFile("corrupt.onnx", TinyClassifierModel.Create(TinyClassifierModel.Metadata())[..200]);
        var error = Assert.Throws<FormatException>(() => ImageClassifier.Load(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Load_MissingFile_FileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => ImageClassifier.Load(Path.Combine(_folder, "absent.onnx")));
    }

    [Fact]
    public void Load_CudaOnCpuOnlyRuntime_ClearError()
    {
        var path = WriteModel(TinyClassifierModel.Metadata());
        if (Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider"))
        {
            return; // a GPU build: nothing to refuse
        }

        var error = Assert.Throws<ExecutionProviderUnavailableException>(() => ImageClassifier.Load(path, new ClassifierOptions { ExecutionProvider = ExecutionProvider.Cuda }));
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux", error.Message);
    }

    [Fact]
    public void Classify_NonImageBytes_DecodeErrorNotAnImage()
    {
        using var classifier = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata()));
        var error = Assert.Throws<ImageDecodeException>(() => classifier.Classify("this is not an image"u8));
        Assert.Equal(DecodeFailure.NotAnImage, error.Failure);
    }

    [Fact]
    public void Classify_TruncatedImageFile_DecodeErrorNamesTheFile()
    {
        using var classifier = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata()));
        var jpeg = Picture(1, SKEncodedImageFormat.Jpeg);
        var path = WriteFile("truncated.jpg", jpeg[..(jpeg.Length / 2)]);

        var error = Assert.Throws<ImageDecodeException>(() => classifier.ClassifyBatch([WriteFile("good.png", Picture(2)), path]));

        Assert.Equal(DecodeFailure.Truncated, error.Failure);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Classify_RawBufferTooShort_ErrorGivesSizes()
    {
        using var classifier = ImageClassifier.Load(WriteModel(TinyClassifierModel.Metadata()));
        var error = Assert.Throws<ArgumentException>(() => classifier.Classify(new byte[100], RawPixelFormat.Rgb24, 10, 10));
        Assert.Contains("needs 300 bytes", error.Message);
        Assert.Throws<ArgumentException>(() => classifier.Classify(new byte[400], RawPixelFormat.Rgba32, 10, 10, stride: 30));
    }

    private static void AssertSame(IReadOnlyList<Prediction> expected, IReadOnlyList<Prediction> actual)
    {
        Assert.Equal(expected.Select(p => p.Index), actual.Select(p => p.Index));
        Assert.Equal(expected.Select(p => p.Label), actual.Select(p => p.Label));
        foreach (var (e, a) in expected.Zip(actual))
        {
            Assert.Equal(e.Probability, a.Probability, 1e-5f);
        }
    }

    private static byte[] Picture(int seed, SKEncodedImageFormat format = SKEncodedImageFormat.Png) =>
        EncodedImages.Encode(45, 38, (x, y) => new SKColor((byte)(x * 5 + seed * 40), (byte)(y * 6 + seed * 17), (byte)((x ^ y) * 7 + seed)), format);

    /// <summary>The image's pixels in <paramref name="format"/>, each row followed by <paramref name="padding"/> junk bytes.</summary>
    private static (byte[] Pixels, int Stride) Raw(PixelImage image, RawPixelFormat format, int padding)
    {
        var bytesPerPixel = format is RawPixelFormat.Rgb24 or RawPixelFormat.Bgr24 ? 3 : 4;
        var stride = image.Width * bytesPerPixel + padding;
        var pixels = new byte[stride * image.Height];
        Array.Fill(pixels, (byte)0xAB);
        for (var y = 0; y < image.Height; y++)
        {
            for (var x = 0; x < image.Width; x++)
            {
                var s = (y * image.Width + x) * 3;
                var d = y * stride + x * bytesPerPixel;
                var (r, g, b) = (image.Pixels[s], image.Pixels[s + 1], image.Pixels[s + 2]);
                (pixels[d], pixels[d + 1], pixels[d + 2]) = format is RawPixelFormat.Bgr24 or RawPixelFormat.Bgra32 ? (b, g, r) : (r, g, b);
            }
        }

        return (pixels, stride);
    }

    private string WriteModel(IReadOnlyDictionary<string, string>? metadata, bool withProbabilities = true, int fixedBatch = 0) =>
        WriteFile($"model-{Guid.NewGuid():N}.onnx", TinyClassifierModel.Create(metadata, withProbabilities, fixedBatch));

    private string WriteFile(string name, byte[] bytes)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
