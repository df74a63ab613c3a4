using System.Globalization;
using System.Text.Json;

namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>
/// How an image becomes the model's input tensor: resize the shorter side to <see cref="Resize"/>
/// (antialiased bilinear), center-crop <see cref="InputHeight"/> x <see cref="InputWidth"/>, order the
/// channels as <see cref="Channels"/>, scale to 0..<see cref="Range"/>, subtract <see cref="Mean"/>, divide
/// by <see cref="Std"/>, lay out as <see cref="Layout"/>.
/// The exported model carries it in its metadata (<see cref="ToMetadata"/>), so serving repeats
/// exactly what training did.
/// </summary>
public sealed record PreprocessingSpec
{
    /// <summary>Model input height in pixels (after the crop).</summary>
    public required int InputHeight { get; init; }

    /// <summary>Model input width in pixels (after the crop).</summary>
    public required int InputWidth { get; init; }

    /// <summary>Length of the shorter side after resizing, before the center crop; at least the input height and width.</summary>
    public required int Resize { get; init; }

    /// <summary>Mean per tensor channel (in <see cref="Channels"/> order) on the 0..<see cref="Range"/> scale.</summary>
    public required IReadOnlyList<float> Mean { get; init; }

    /// <summary>Standard deviation per tensor channel on the 0..<see cref="Range"/> scale, positive.</summary>
    public required IReadOnlyList<float> Std { get; init; }

    /// <summary>Channels the model reads, in tensor order.</summary>
    public ChannelFormat Channels { get; init; } = ChannelFormat.Rgb;

    /// <summary>The value of a white pixel before the mean is subtracted: 1 (torchvision) or 255 (Caffe, CNTK).</summary>
    public int Range { get; init; } = 1;

    /// <summary>Tensor layout of the model input.</summary>
    public TensorLayout Layout { get; init; } = TensorLayout.Nchw;

    /// <summary>Number of channels of the input tensor.</summary>
    public int ChannelCount => PixelImage.ChannelCount(Channels);

    /// <summary>Floats per image in the input tensor (C * H * W).</summary>
    public int TensorLength => ChannelCount * InputHeight * InputWidth;

    /// <summary>The input tensor's shape for <paramref name="batch"/> images, in <see cref="Layout"/> order.</summary>
    public long[] TensorShape(long batch) => Layout == TensorLayout.Nhwc
        ? [batch, InputHeight, InputWidth, ChannelCount]
        : [batch, ChannelCount, InputHeight, InputWidth];

    /// <summary>The tensor shape for a batch of N, for messages: [N, 3, 224, 224].</summary>
    public string DescribeShape() => "[N, " + string.Join(", ", TensorShape(0).Skip(1)) + "]";

    /// <summary>The torchvision ImageNet convention: resize 256, crop 224, ImageNet mean and std, RGB.</summary>
    public static PreprocessingSpec ImageNet(int inputSize = 224, int resize = 256) => new()
    {
        InputHeight = inputSize,
        InputWidth = inputSize,
        Resize = resize,
        Mean = [0.485f, 0.456f, 0.406f],
        Std = [0.229f, 0.224f, 0.225f],
    };

    /// <summary>Throws if the values cannot describe a preprocessing (sizes, crop larger than the resize, mean/std lengths).</summary>
    /// <exception cref="ArgumentException">Describes the first problem found.</exception>
    public void Validate()
    {
        if (InputHeight <= 0 || InputWidth <= 0)
        {
            throw new ArgumentException($"Input size must be positive, got {InputHeight}x{InputWidth}.");
        }

        if (Resize < Math.Max(InputHeight, InputWidth))
        {
            throw new ArgumentException($"Resize ({Resize}) must be at least the input height and width ({InputHeight}x{InputWidth}) so the center crop fits.");
        }

        if (Mean is null || Std is null || Mean.Count != ChannelCount || Std.Count != ChannelCount)
        {
            throw new ArgumentException($"Mean and std need {ChannelCount} values each for {Channels} input.");
        }

        if (Std.Any(s => !(s > 0)) || Mean.Any(m => !float.IsFinite(m)) || Std.Any(s => !float.IsFinite(s)))
        {
            throw new ArgumentException("Std values must be positive and mean/std finite.");
        }

        if (Range is not (1 or 255))
        {
            throw new ArgumentException($"Range (the value of white) must be 1 or 255, got {Range}.");
        }

        if (!Enum.IsDefined(Channels) || !Enum.IsDefined(Layout))
        {
            throw new ArgumentException($"Unknown channels {Channels} or layout {Layout}.");
        }
    }

    /// <summary>
    /// The model metadata entries (contract): <c>input_size</c> "[H, W]", <c>resize</c>, <c>mean</c>,
    /// <c>std</c> (JSON arrays), <c>channels</c> (<c>RGB</c>, <c>BGR</c> or <c>L</c>), <c>range</c>
    /// (<c>1</c> or <c>255</c>), <c>layout</c> (<c>NCHW</c> or <c>NHWC</c>).
    /// </summary>
    public IReadOnlyDictionary<string, string> ToMetadata() => new Dictionary<string, string>
    {
        ["input_size"] = $"[{InputHeight},{InputWidth}]",
        ["resize"] = Resize.ToString(CultureInfo.InvariantCulture),
        ["mean"] = FormatArray(Mean),
        ["std"] = FormatArray(Std),
        ["channels"] = ChannelNames.First(n => n.Value == Channels).Key,
        ["range"] = Range.ToString(CultureInfo.InvariantCulture),
        ["layout"] = LayoutNames.First(n => n.Value == Layout).Key,
    };

    /// <summary>The metadata and recipe spelling of each channel format.</summary>
    public static IReadOnlyDictionary<string, ChannelFormat> ChannelNames { get; } =
        new Dictionary<string, ChannelFormat> { ["RGB"] = ChannelFormat.Rgb, ["BGR"] = ChannelFormat.Bgr, ["L"] = ChannelFormat.L };

    /// <summary>The metadata and recipe spelling of each layout.</summary>
    public static IReadOnlyDictionary<string, TensorLayout> LayoutNames { get; } =
        new Dictionary<string, TensorLayout> { ["NCHW"] = TensorLayout.Nchw, ["NHWC"] = TensorLayout.Nhwc };

    /// <summary>
    /// Reads the entries written by <see cref="ToMetadata"/> and validates them. Files written before
    /// <c>channels</c>, <c>range</c> and <c>layout</c> existed load as RGB, 1 and NCHW.
    /// </summary>
    /// <exception cref="FormatException">An entry is missing or malformed; the message names it.</exception>
    public static PreprocessingSpec FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var inputSize = ParseArray(metadata, "input_size");
        if (inputSize.Length != 2 || inputSize.Any(v => v != Math.Floor(v)))
        {
            throw new FormatException("Model metadata 'input_size' must be a JSON array of two integers [H, W].");
        }

        var spec = new PreprocessingSpec
        {
            InputHeight = (int)inputSize[0],
            InputWidth = (int)inputSize[1],
            Resize = int.TryParse(Entry(metadata, "resize"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var resize)
                ? resize
                : throw new FormatException("Model metadata 'resize' must be an integer."),
            Mean = ParseArray(metadata, "mean").Select(v => (float)v).ToArray(),
            Std = ParseArray(metadata, "std").Select(v => (float)v).ToArray(),
            Channels = Named(metadata, "channels", ChannelNames, ChannelFormat.Rgb),
            Range = !metadata.TryGetValue("range", out var range) ? 1
                : range is "1" or "255" ? int.Parse(range, CultureInfo.InvariantCulture)
                : throw new FormatException($"Model metadata 'range' must be 1 or 255, got '{range}'."),
            Layout = Named(metadata, "layout", LayoutNames, TensorLayout.Nchw),
        };
        try
        {
            spec.Validate();
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"Model metadata describes invalid preprocessing: {e.Message}", e);
        }

        return spec;
    }

    /// <inheritdoc />
    public bool Equals(PreprocessingSpec? other) =>
        other is not null
        && InputHeight == other.InputHeight
        && InputWidth == other.InputWidth
        && Resize == other.Resize
        && Channels == other.Channels
        && Range == other.Range
        && Layout == other.Layout
        && Mean.SequenceEqual(other.Mean)
        && Std.SequenceEqual(other.Std);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(InputHeight);
        hash.Add(InputWidth);
        hash.Add(Resize);
        hash.Add(Channels);
        hash.Add(Range);
        hash.Add(Layout);
        foreach (var value in Mean.Concat(Std))
        {
            hash.Add(value);
        }

        return hash.ToHashCode();
    }

    private static string FormatArray(IReadOnlyList<float> values) =>
        "[" + string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";

    private static T Named<T>(IReadOnlyDictionary<string, string> metadata, string key, IReadOnlyDictionary<string, T> names, T absent) =>
        !metadata.TryGetValue(key, out var name) ? absent
        : names.TryGetValue(name, out var value) ? value
        : throw new FormatException($"Model metadata '{key}' must be {string.Join(", ", names.Keys.SkipLast(1))} or {names.Keys.Last()}, got '{name}'.");

    private static string Entry(IReadOnlyDictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var value) ? value : throw new FormatException($"Model metadata lacks '{key}'.");

    private static double[] ParseArray(IReadOnlyDictionary<string, string> metadata, string key)
    {
        // JsonDocument, not a serializer: no reflection, safe for trimming and AOT.
        try
        {
            using var document = JsonDocument.Parse(Entry(metadata, key));
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException($"Model metadata '{key}' must be a JSON array.");
            }

            return document.RootElement.EnumerateArray().Select(e => e.GetDouble()).ToArray();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new FormatException($"Model metadata '{key}' must be a JSON array of numbers.", e);
        }
    }
}
