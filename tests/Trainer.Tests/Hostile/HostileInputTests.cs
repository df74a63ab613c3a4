using OnnxTrainer.Cli;
using OnnxTrainer.Tests.Fixtures;
using Xunit;

namespace OnnxTrainer.Tests.Hostile;

/// <summary>
/// Issue 22, as a table: each row makes a hostile input in a scratch folder, runs the real command line on it and expects
/// the exit code (1 bad input, 2 usage) and one line on stderr naming the file (or the option) and saying what is wrong,
/// within a time bound (a hang fails the row instead of the suite), with no stack trace and no raw control character.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class HostileInputTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly HostileFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>What a row's input is called in the message: the file (or the option) the error must name.</summary>
    /// <param name="NeverMakes">A path the refused command must not have made.</param>
    private sealed record Row(string[] Args, int Code, string Names, string Says, string? NeverSays = null, string? NeverMakes = null);

    private static readonly Dictionary<string, Func<HostileFiles, Row>> Rows = new()
    {
        // 3. YAML: bounded before the tree is built or walked, every error at file:line:col
        ["recipe: alias bomb"] = f => new(["train", f.Write("bomb.yaml", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" +
            string.Concat(Enumerable.Range(1, 8).Select(i => $"{(char)('a' + i)}: &{(char)('a' + i)} [{string.Join(", ", Enumerable.Repeat($"*{(char)('a' + i - 1)}", 10))}]\n")))],
            CommandLine.BadInput, "bomb.yaml:5:", "more than 100,000 values once aliases are expanded"),
        ["recipe: recursive anchor"] = f => new(["train", f.Write("loop.yaml", "name: &a [*a]\n")], CommandLine.BadInput, "loop.yaml:1:11", "a recursive anchor"),
        ["recipe: 100,000 nested brackets"] = f => new(["train", f.Write("deep.yaml", "name: " + new string('[', 100_000) + new string(']', 100_000))], CommandLine.BadInput, "deep.yaml:1:", "nested more than 64"),
        ["recipe: unclosed flow list"] = f => new(["train", f.Write("open.yaml", "name: [a, b\nepochs: 3\n")], CommandLine.BadInput, "open.yaml:1:7", "this '[' is not closed"),
        ["--set value of two documents"] = f => new(["train", f.Write("r.yaml", "name: x\n"), "--set", "epochs=3\n---\n4"], CommandLine.BadInput, "r.yaml: --set epochs=3", "more than one YAML document"),

        // 4. sizes the backbone cannot take: refused before ONNX Runtime refuses them mid-run
        ["input.size a fixed-size backbone cannot take"] = f => new(["train", Tiny(f, "train: { path: images }", ("images/a/0.png", false), ("images/b/1.png", false)), "--set", "input.size=[16,16]"],
            CommandLine.BadInput, "tiny.yaml: --set input.size=[16,16]", "the backbone's input float[1, 3, 8, 8] takes 8x8 images only, not 16x16"),

        // 5. options: bounded, usage errors before any file is read
        ["threads 100000"] = f => new(["train", f.Path("r.yaml"), "--threads", "100000"], CommandLine.UsageError, "--threads", "must be 0 (one per core) to"),
        ["chunks 1000000"] = f => new(["train", f.Path("r.yaml"), "--chunks", "1000000"], CommandLine.UsageError, "--chunks", "(got 1000000)"),
        ["inspect --input-size -7"] = f => new(["inspect", f.Model("m.onnx"), "--input-size", "-7"], CommandLine.UsageError, "--input-size", "must be 1 to"),
        ["inspect --input-size 2^31-1"] = f => new(["inspect", f.Model("m.onnx"), "--input-size", $"{int.MaxValue}"], CommandLine.UsageError, "--input-size", $"(got {int.MaxValue})"),
        ["predict --top 0"] = f => new(["predict", f.Model("m.onnx"), f.Image("a.png"), "--top", "0"], CommandLine.UsageError, "--top", "must be at least 1 (got 0)"),

        // 6. special files: only regular files, with a size bound
        ["FIFO as model"] = f => new(["inspect", f.Fifo("pipe.onnx")], CommandLine.BadInput, "pipe.onnx", "not a regular file"),
        ["FIFO as classifier"] = f => new(["predict", f.Fifo("pipe.onnx"), f.Image("a.png")], CommandLine.BadInput, "pipe.onnx", "not a regular file"),
        ["FIFO as image"] = f => new(["predict", f.Classifier("m.onnx"), f.Fifo("pipe.png")], CommandLine.BadInput, "pipe.png", "not a regular file"),
        ["FIFO as recipe"] = f => new(["train", f.Fifo("pipe.yaml")], CommandLine.BadInput, "pipe.yaml", "not a regular file"),
        ["FIFO as CSV"] = f => new(["train", Recipe(f, "data: { train: { kind: csv, path: pipe.csv, classes: [a, b] } }", f.Fifo("pipe.csv"))], CommandLine.BadInput, "pipe.csv", "not a regular file"),
        ["FIFO as metrics log"] = f => new(["evaluate", f.Classifier("m.onnx"), Folder(f, "data"), "--metrics", f.Fifo("metrics.jsonl")], CommandLine.BadInput,
            "metrics.jsonl: cannot read the metrics log", "not a regular file"),
        ["/dev/zero as image"] = f => new(["predict", f.Classifier("m.onnx"), f.Link("zero.png", "/dev/zero")], CommandLine.BadInput, "zero.png", "not a regular file"),
        ["/dev/urandom as image"] = f => new(["predict", f.Classifier("m.onnx"), f.Link("random.jpg", "/dev/urandom")], CommandLine.BadInput, "random.jpg", "not a regular file"),
        ["/dev/zero as recipe"] = f => new(["train", f.Link("zero.yaml", "/dev/zero")], CommandLine.BadInput, "zero.yaml", "not a regular file"),
        ["/dev/zero as model"] = f => new(["inspect", f.Link("zero.onnx", "/dev/zero")], CommandLine.BadInput, "zero.onnx", "not a regular file"),
        ["recipe over 1 MB"] = f => new(["train", f.Write("big.yaml", "name: x\n" + new string('#', 2 << 20))], CommandLine.BadInput, "big.yaml", "over the limit of 1.0 MB"),

        // 7, 12. invalid ONNX: refused at load naming file and node, by every command
        ["Conv group 0"] = f => new(["inspect", f.Model("m.onnx", m => SetConv(m, "group", 0L))], CommandLine.BadInput, "m.onnx: node 'conv' (Conv)", "group is 0"),
        ["kernel_shape contradicting the weight"] = f => new(["inspect", f.Model("m.onnx", m => SetConv(m, "kernel_shape", new[] { 5L, 5L }))],
            CommandLine.BadInput, "m.onnx: node 'conv' (Conv)", "kernel_shape [5, 5] contradicts the weight 'conv.weight' float[4, 3, 3, 3]"),
        ["pads 2^40"] = f => new(["inspect", f.Model("m.onnx", m => SetConv(m, "pads", new[] { 1L << 40, 0L, 0L, 0L }))], CommandLine.BadInput, "m.onnx: node 'conv' (Conv)", "pads [1099511627776, 0, 0, 0] must be 0 to"),
        ["Conv group not dividing the output channels"] = f => new(["inspect", f.Model("m.onnx", m => SetConv(m, "group", 3L))], CommandLine.BadInput, "m.onnx: node 'conv' (Conv)",
            "weight 'conv.weight' has 4 output channels, not a multiple of group 3"),
        ["Conv weight for 2 input channels of 3"] = f => new(["inspect", f.Model("m.onnx", m => SetConv(m, "group", 2L))], CommandLine.BadInput, "m.onnx: node 'conv' (Conv)",
            "the input has 3 channels; the weight reads 3 per group x 2 group(s)"),
        ["opset 99"] = f => new(["inspect", f.Model("m.onnx", m => m.Opsets[""] = 99)], CommandLine.BadInput, "m.onnx", "opset 99, newer than"),
        ["model without outputs"] = f => new(["inspect", f.Model("m.onnx", m => m.Graph.Outputs.Clear())], CommandLine.BadInput, "m.onnx", "the graph has no outputs"),
        ["predict: classifier without outputs"] = f => new(["predict", f.Classifier("m.onnx", edit: m => m.Graph.Outputs.Clear()), f.Image("a.png")], CommandLine.BadInput, "m.onnx", "the graph has no outputs"),
        ["predict: classifier with Conv group 0"] = f => new(["predict", f.Classifier("m.onnx", edit: m => SetFirstConv(m, "group", 0L)), f.Image("a.png")], CommandLine.BadInput, "m.onnx: node", "group is 0"),
        ["predict: classifier ONNX Runtime loads but cannot run"] = f => new(["predict", f.Classifier("m.onnx", edit: GatherRowOutOfRange), f.Image("a.png")],
            CommandLine.BadInput, "m.onnx", "ONNX Runtime cannot run the model"),
        ["evaluate: classifier with two inputs"] = f => new(["evaluate", f.Classifier("m.onnx", edit: m => m.Graph.AddInput("mask", OnnxTrainer.Ir.TensorType.Of(OnnxTrainer.Ir.DataType.Float, 1))), f.Path("images")],
            CommandLine.BadInput, "m.onnx", "the graph has 2 inputs"),
        ["artifacts: Conv group 0 backbone"] = f => new(["artifacts", Backbone(f, f.Model("m.onnx", m => SetConv(m, "group", 0L)))], CommandLine.BadInput, "m.onnx: node 'conv' (Conv)", "group is 0"),
        ["artifacts: kernel_shape contradicting the weight"] = f => new(["artifacts", Backbone(f, f.Model("m.onnx", m => SetConv(m, "kernel_shape", new[] { 1L, 1L })))],
            CommandLine.BadInput, "m.onnx: node 'conv' (Conv)", "contradicts the weight"),
        ["artifacts: backbone with two inputs"] = f => new(["artifacts", Backbone(f, f.Model("m.onnx", m => m.Graph.AddInput("mask", OnnxTrainer.Ir.TensorType.Of(OnnxTrainer.Ir.DataType.Float, 1, 3, 8, 8))))],
            CommandLine.BadInput, "m.onnx", "the graph has 2 inputs ('input', 'mask'); an image model has exactly one"),
        ["artifacts: empty backbone graph"] = f => new(["artifacts", Backbone(f, f.Model("m.onnx", EmptyGraph))], CommandLine.BadInput, "m.onnx", "the graph is empty (no nodes)"),

        // 8. data
        ["data.train.path: /proc/self"] = f => new(["evaluate", f.Classifier("m.onnx"), "/proc/self"], CommandLine.BadInput, "/proc/self", "outside the image folder '/proc/self'"),
        ["class folder linking out of the dataset"] = f => new(["evaluate", f.Classifier("m.onnx"), Folder(f, "data", ("cat/elsewhere", f.Root))], CommandLine.BadInput,
            "data/cat/elsewhere' is a link to", "outside the image folder"),
        ["NUL byte in a CSV path"] = f => new(["train", Recipe(f, "data: { train: { kind: csv, path: list.csv } }", f.Write("list.csv", "a\0b.png,cat\nc.png,dog\n"))],
            CommandLine.BadInput, "list.csv:1", "NUL character"),
        ["IDX dimensions wrapping a long"] = f => new(["train", Recipe(f, "data: { train: { kind: idx, images: images.idx, labels: labels.idx } }",
            f.Write("images.idx", Idx(3, [1 << 21, 1 << 21, 1 << 22], 0)), f.Write("labels.idx", Idx(1, [1], 1)))], CommandLine.BadInput, "images.idx", "more than the 0 bytes"),

        // 10 and unclear messages: images that decode "successfully" into nonsense, headers that say what is wrong
        ["predict: JPEG with a damaged entropy segment"] = f => new(["predict", f.Classifier("m.onnx"), f.Write("damaged.jpg", DamagedJpeg())], CommandLine.BadInput,
            "damaged.jpg", "The JPEG's compressed data is damaged"),
        ["predict: PNG header declaring 0x0"] = f => new(["predict", f.Classifier("m.onnx"), f.Write("empty.png", PngOfSize(0, 0))], CommandLine.BadInput,
            "empty.png", "The PNG header declares an invalid size 0x0"),
        ["predict: BMP over the pixel limit"] = f => new(["predict", f.Classifier("m.onnx"), f.Write("huge.bmp", BmpOfSize(1_000_000, 40_000))], CommandLine.BadInput,
            "huge.bmp", "The BMP header declares 1000000x40000 pixels, over the limit"),
        ["predict: model scoring NaN"] = f => new(["predict", f.Classifier("m.onnx", edit: TimesNaN), f.Image("a.png"), "--json"], CommandLine.BadInput,
            "a.png", "gives NaN or infinite scores"),

        // 9, 13. run control
        ["--resume without a checkpoint"] = f => new(["train", Backbone(f, f.Model("m.onnx")), "--out", f.Path("run"), "--resume"], CommandLine.BadInput,
            $"no checkpoint in {f.Path("run")}", "run without --resume", NeverMakes: f.Path("run")),
        ["--resume with a changed recipe"] = f => new(["train", Trained(f, Backbone(f, f.Model("m.onnx")), f.Path("run")), "--out", f.Path("run"), "--resume", "--set", "epochs=2"],
            CommandLine.BadInput, $"error: {f.Path("run")}: the checkpoint was made with another recipe", "resume with the same recipe or start a new run"),
        ["--out under a file"] = f => new(["train", Backbone(f, f.Model("m.onnx")), "--out", Path.Combine(f.Write("file", "x"), "run")], CommandLine.BadInput,
            f.Path("file"), "cannot write"),

        // 11. data that would train into nonsense
        ["one class"] = f => new(["train", Tiny(f, "train: { path: images }", ("images/cat/0.png", false), ("images/cat/1.png", false))],
            CommandLine.BadInput, f.Path("images"), "the training data has 1 class (cat); a classifier needs at least 2"),
        ["every training image undecodable"] = f => new(["train", Tiny(f, "train: { path: images }", ("images/a/0.png", true), ("images/b/1.png", true))],
            CommandLine.BadInput, f.Path("images"), "none of the 2 training images could be decoded"),
        ["every validation image undecodable"] = f => new(["train", Tiny(f, "train: { path: images }\n  val: { path: val }",
            ("images/a/0.png", false), ("images/b/1.png", false), ("val/a/0.png", true), ("val/b/1.png", true))],
            CommandLine.BadInput, f.Path("val"), "none of the 2 validation images could be decoded"),
        ["CSV: one image under two labels"] = f => new(["train", Tiny(f, "train: { kind: csv, path: list.csv }", ("0.png", false), ("1.png", false)),
            "--set", $"data.train.path={f.Write("list.csv", "0.png,cat\n1.png,dog\n0.png,dog\n")}"],
            CommandLine.BadInput, "list.csv:3", "0.png is labelled 'dog' here and 'cat' on line 1"),

        // 15. a file that is not a recipe is neither read nor quoted
        ["train /etc/passwd"] = _ => new(["train", "/etc/passwd"], CommandLine.BadInput, "/etc/passwd", "a recipe is a YAML file named *.yaml or *.yml", NeverSays: "root:"),
        ["passwd renamed .yaml"] = f => new(["train", f.Write("passwd.yaml", Passwd)], CommandLine.BadInput, "passwd.yaml", "(got user0:x:0:0::/home/user0:/bin/sh user1:x...)", NeverSays: "user2"),
    };

    public static TheoryData<string> Names => [.. Rows.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Command_HostileInput_OneLineNamingTheFileExitCode(string name)
    {
        var row = Rows[name](_files);

        var run = Task.Run(() => ConsoleCapture.Run(row.Args));
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(Patience)));
        var (code, _, error) = await run;

        Assert.Equal(row.Code, code);
        var lines = error.Trim().Split('\n');
        if (row.Code == CommandLine.BadInput)
        {
            var line = Assert.Single(lines);
            Assert.StartsWith("error: ", line);
        }
        Assert.True(lines[0].Contains(row.Names, StringComparison.Ordinal), $"does not name {row.Names}: {lines[0]}");
        Assert.True(lines[0].Contains(row.Says, StringComparison.Ordinal), $"does not say '{row.Says}': {lines[0]}");
        if (row.NeverSays is { } secret) Assert.DoesNotContain(secret, error);
        if (row.NeverMakes is { } made) Assert.False(Path.Exists(made), $"left {made} behind");
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain('\u001b', error);
    }

    private static void SetConv(OnnxTrainer.Ir.Model model, string attribute, long value) => Conv(model).Attributes[attribute] = OnnxTrainer.Ir.Attribute.Of(attribute, value);

    private static void SetConv(OnnxTrainer.Ir.Model model, string attribute, long[] values) => Conv(model).Attributes[attribute] = OnnxTrainer.Ir.Attribute.Of(attribute, values);

    private static void SetFirstConv(OnnxTrainer.Ir.Model model, string attribute, long value) =>
        model.Graph.Nodes.First(n => n.OpType == "Conv").Attributes[attribute] = OnnxTrainer.Ir.Attribute.Of(attribute, value);

    private static OnnxTrainer.Ir.Node Conv(OnnxTrainer.Ir.Model model) => model.Graph.Nodes.Single(n => n.OpType == "Conv");

    /// <summary>Row 5 of the scores of a batch of 1: a valid graph of the right output shape whose run fails (in ONNX Runtime, not in any check before).</summary>
    private static void GatherRowOutOfRange(OnnxTrainer.Ir.Model model)
    {
        var graph = model.Graph;
        var row = graph.AddInitializer("row", OnnxTrainer.Ir.Tensor.FromInt64s([1], [5]));
        var gather = graph.AddNode("Gather", [graph.Outputs[^1], row], ["row_5"], [OnnxTrainer.Ir.Attribute.Of("axis", 0L)], name: "bad_gather");
        graph.Outputs.Clear();
        graph.Outputs.Add(gather.Output());
    }

    /// <summary>A graph with one input that is also its output, and no node.</summary>
    private static void EmptyGraph(OnnxTrainer.Ir.Model model)
    {
        foreach (var node in model.Graph.Nodes.Reverse().ToList()) model.Graph.RemoveNode(node);
        model.Graph.Outputs.Clear();
        model.Graph.Outputs.Add(model.Graph.Inputs[0]);
    }

    /// <summary>A feature-extraction recipe on <paramref name="backbone"/> with a valid two-class image folder beside it.</summary>
    private static string Backbone(HostileFiles files, string backbone)
    {
        for (int i = 0; i < 4; i++) files.Image($"images/{(i % 2 == 0 ? "a" : "b")}/{i}.png", seed: i);
        return files.Write("backbone.yaml", $"name: hostile\nbackbone: {{ path: {backbone} }}\nstrategy: feature-extraction\ndata: {{ train: {{ path: {files.Path("images")} }} }}\nepochs: 1\nbatch_size: 2\n");
    }

    /// <summary>An image folder with one picture per class of the default classifier, and the links given (relative path, target).</summary>
    private static string Folder(HostileFiles files, string relative, params (string Link, string Target)[] links)
    {
        foreach (var label in new[] { "bird", "cat", "dog", "fish" }) files.Image($"{relative}/{label}/0.png");
        foreach (var (link, target) in links) files.Link($"{relative}/{link}", target);
        return files.Path(relative);
    }

    [Fact]
    public void Evaluate_DamagedJpegInTheData_SkippedAndListed()
    {
        string data = Folder(_files, "data");
        string damaged = _files.Write("data/cat/damaged.jpg", DamagedJpeg());

        var (code, output, error) = ConsoleCapture.Run("evaluate", _files.Classifier("m.onnx"), data, "--json");

        Assert.True(code == 0, error);
        var report = System.Text.Json.Nodes.JsonNode.Parse(output)!;
        Assert.Equal(4, (int)report["images"]!);
        var skipped = Assert.Single(report["skipped"]!.AsArray());
        Assert.Contains(damaged, (string)skipped!);
        Assert.Contains("compressed data is damaged", (string)skipped!);
    }

    /// <summary>A whole JPEG with 200 bytes of its entropy-coded data zeroed: libjpeg decodes it with only a warning.</summary>
    private static byte[] DamagedJpeg()
    {
        var jpeg = Data.TemporaryDirectory.Picture(5, SkiaSharp.SKEncodedImageFormat.Jpeg, width: 96, height: 80);
        int sos = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xDA]);
        jpeg.AsSpan(sos + 300, 200).Clear();
        return jpeg;
    }

    /// <summary>A small PNG whose header is rewritten to declare <paramref name="width"/> x <paramref name="height"/>.</summary>
    private static byte[] PngOfSize(int width, int height)
    {
        var png = Data.TemporaryDirectory.Picture(1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
        return png;
    }

    /// <summary>A small BMP whose header is rewritten to declare <paramref name="width"/> x <paramref name="height"/>.</summary>
    private static byte[] BmpOfSize(int width, int height)
    {
        var bmp = Data.TemporaryDirectory.BmpPicture(1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), height);
        return bmp;
    }

    /// <summary>The scores times NaN: a model that runs and answers nonsense.</summary>
    private static void TimesNaN(OnnxTrainer.Ir.Model model)
    {
        var graph = model.Graph;
        var nan = graph.AddInitializer("nan", OnnxTrainer.Ir.Tensor.FromFloats([1], [float.NaN]));
        var times = graph.AddNode("Mul", [graph.Outputs[^1], nan], ["nan_scores"], name: "times_nan");
        graph.Outputs.Clear();
        graph.Outputs.Add(times.Output());
    }

    /// <summary>Thirty lines in the form of /etc/passwd, which YAML reads as one long plain string.</summary>
    private static string Passwd => string.Concat(Enumerable.Range(0, 30).Select(i => $"user{i}:x:{i}:{i}::/home/user{i}:/bin/sh\n"));

    /// <summary>
    /// A feature-extraction recipe on the tiny model with <paramref name="data"/> (YAML under <c>data:</c>, paths relative to
    /// the scratch folder) and the pictures given, each whole or cut in half (its header readable, its pixels not).
    /// </summary>
    private static string Tiny(HostileFiles files, string data, params (string Path, bool Truncated)[] pictures)
    {
        foreach (var (path, truncated) in pictures)
        {
            var png = Data.TemporaryDirectory.Picture(path.Length, SkiaSharp.SKEncodedImageFormat.Png, width: 70, height: 66);
            files.Write(path, truncated ? png[..(png.Length / 2)] : png);
        }
        return files.Write("tiny.yaml", $"name: tiny\nbackbone: {{ path: {files.Model("m.onnx")} }}\nstrategy: feature-extraction\ndata:\n  {data}\nepochs: 1\nbatch_size: 2\n");
    }

    /// <summary>The recipe at <paramref name="recipe"/>, trained to its end into <paramref name="run"/>.</summary>
    private static string Trained(HostileFiles files, string recipe, string run)
    {
        var (code, _, error) = ConsoleCapture.Run("train", recipe, "--out", run);
        Assert.True(code == 0, error);
        return recipe;
    }

    /// <summary>An IDX file of unsigned bytes: the header declaring <paramref name="dimensions"/>, then <paramref name="dataBytes"/> zeros.</summary>
    private static byte[] Idx(int rank, int[] dimensions, int dataBytes)
    {
        var bytes = new byte[4 + 4 * rank + dataBytes];
        bytes[2] = 0x08;
        bytes[3] = (byte)rank;
        for (int d = 0; d < rank; d++) System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dimensions[d]);
        return bytes;
    }

    [Fact]
    public async Task Evaluate_SymlinkLoopInAClassFolder_EachImageOnce()
    {
        string data = Folder(_files, "data", ("cat/loop", "."), ("dog/up", ".."));

        var run = Task.Run(() => ConsoleCapture.Run("evaluate", _files.Classifier("m.onnx"), data, "--json"));
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(Patience)));
        var (code, output, error) = await run;

        Assert.True(code == 0, error);
        Assert.Equal(4, (int)System.Text.Json.Nodes.JsonNode.Parse(output)!["images"]!);
    }

    /// <summary>A recipe on a generated backbone whose data is <paramref name="data"/> (YAML), next to the hostile file it names.</summary>
    private static string Recipe(HostileFiles files, string data, params string[] hostile) =>
        files.Write(Path.Combine(Path.GetDirectoryName(hostile[0])!, "recipe.yaml"),
            $"name: hostile\nbackbone: {{ path: {GeneratedFixtures.ModelPath("resnet_small")} }}\n{data}\nepochs: 1\nbatch_size: 2\n");
}
