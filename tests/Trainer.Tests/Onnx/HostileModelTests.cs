using Google.Protobuf;
using OnnxTrainer.Onnx;
using OnnxTrainer.Onnx.Protos;
using Xunit;

namespace OnnxTrainer.Tests.Onnx;

/// <summary>
/// Files that are corrupt or lie: each must give a <see cref="ModelFormatException"/> that names the file and
/// the tensor, node or value at fault, never a crash or an unbounded allocation. Files are built with the
/// protobuf classes inside a temp folder; the "outside" a hostile location points to is a sibling folder in
/// that same temp folder, so no test ever reads beyond it.
/// </summary>
public sealed class HostileModelTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly string _modelFolder;
    private readonly string _outside;

    public HostileModelTests()
    {
        _modelFolder = _temp.Sub("model");
        _outside = _temp.Sub("outside");
        File.WriteAllBytes(Path.Combine(_outside, "secret.bin"), new byte[64]);
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Load_TruncatedProtobuf_ThrowsNamingFile()
    {
        var bytes = ValidModel().ToByteArray();

        string path = Write(bytes[..(bytes.Length * 2 / 3)]);

        AssertRejected(path, "not a valid ONNX protobuf");
    }

    [Fact]
    public void Load_RandomGarbage_ThrowsNamingFile()
    {
        var bytes = new byte[4096];
        new Random(1234).NextBytes(bytes);

        string path = Write(bytes);

        AssertRejected(path);
    }

    [Fact]
    public void Load_RandomlyMutatedModels_ThrowOnlyModelFormatException()
    {
        var valid = ValidModel().ToByteArray();
        var random = new Random(42);
        for (int trial = 0; trial < 2000; trial++)
        {
            var bytes = (byte[])valid.Clone();
            for (int flips = random.Next(1, 5); flips > 0; flips--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);

            var error = Record.Exception(() => ModelReader.Load(bytes, $"mutant {trial}"));

            if (error is not null && error is not ModelFormatException)
                Assert.Fail($"mutant {trial} ({Convert.ToHexString(bytes)}) threw {error}");
        }
    }

    [Fact]
    public void Load_NegativeDimInInitializer_ThrowsNamingInitializer()
    {
        var model = ValidModel();
        Weight(model).Dims[0] = -4;

        AssertRejected(Write(model), "initializer 'w'", "-4");
    }

    [Fact]
    public void Load_AbsurdDimsInInitializer_ThrowsBeforeAllocating()
    {
        var model = ValidModel();
        var w = Weight(model);
        w.Dims.Clear();
        w.Dims.Add([int.MaxValue, int.MaxValue, int.MaxValue]);

        AssertRejected(Write(model), "initializer 'w'", "overflow");
    }

    [Fact]
    public void Load_AbsurdDimInGraphInput_ThrowsNamingInput()
    {
        var model = ValidModel();
        model.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue = 1_000_000_000_000;

        AssertRejected(Write(model), "graph input 'x'", "1000000000000");
    }

    [Fact]
    public void Load_AbsurdDimInValueInfo_ThrowsNamingValue()
    {
        var model = ValidModel();
        model.Graph.ValueInfo.Add(FloatInfo("y", 1, 1_000_000_000_000));

        AssertRejected(Write(model), "value 'y'", "1000000000000");
    }

    [Fact]
    public void Load_NegativeDimInValueInfo_ThrowsNamingValue()
    {
        var model = ValidModel();
        model.Graph.ValueInfo.Add(FloatInfo("y", 1, -3));

        AssertRejected(Write(model), "value 'y'", "-3");
    }

    [Fact]
    public void Load_RawDataLengthDisagreesWithDims_ThrowsNamingInitializer()
    {
        var model = ValidModel();
        Weight(model).Dims[0] = 5;

        AssertRejected(Write(model), "initializer 'w'", "16 bytes", "needs 20");
    }

    [Fact]
    public void Load_TypedDataCountMismatch_ThrowsNamingInitializer()
    {
        var model = ValidModel();
        var w = Weight(model);
        w.RawData = ByteString.Empty;
        w.FloatData.Add([1f, 2f, 3f]);

        AssertRejected(Write(model), "initializer 'w'", "3 values", "needs 4");
    }

    [Fact]
    public void Load_ComplexTypedDataWithOddCount_ThrowsNamingInitializer()
    {
        var model = ValidModel();
        var w = Weight(model);
        w.RawData = ByteString.Empty;
        w.DataType = (int)TensorProto.Types.DataType.Complex64;
        w.Dims[0] = 2;
        w.FloatData.Add([1f, 2f, 3f, 4f, 5f]);

        AssertRejected(Write(model), "initializer 'w'", "needs 2");
    }

    [Fact]
    public void Load_ExternalDataAbsoluteLocation_ThrowsNamingInitializer()
    {
        var model = ValidModel();
        MakeExternal(model, Path.Combine(_outside, "secret.bin"));

        AssertRejected(Write(model), "initializer 'w'", "absolute");
    }

    [Fact]
    public void Load_ExternalDataClimbingOut_ThrowsNamingInitializer()
    {
        var model = ValidModel();
        MakeExternal(model, "../outside/secret.bin");

        AssertRejected(Write(model), "initializer 'w'", "climbs out");
    }

    [Fact]
    public void Load_ExternalDataClimbingOutMidPath_ThrowsNamingInitializer()
    {
        var model = ValidModel();
        Directory.CreateDirectory(Path.Combine(_modelFolder, "sub"));
        MakeExternal(model, "sub/../../outside/secret.bin");

        AssertRejected(Write(model), "initializer 'w'", "climbs out");
    }

    [Fact]
    public void Load_ExternalDataThroughFileSymlinkOutside_ThrowsNamingInitializer()
    {
        var model = ValidModel();
        File.CreateSymbolicLink(Path.Combine(_modelFolder, "data.bin"), "../outside/secret.bin");
        MakeExternal(model, "data.bin");

        AssertRejected(Write(model), "initializer 'w'", "link", "outside the model's folder");
    }

    [Fact]
    public void Load_ExternalDataThroughFolderSymlinkOutside_ThrowsNamingInitializer()
    {
        var model = ValidModel();
        Directory.CreateSymbolicLink(Path.Combine(_modelFolder, "weights"), _outside);
        MakeExternal(model, "weights/secret.bin");

        AssertRejected(Write(model), "initializer 'w'", "link", "outside the model's folder");
    }

    [Fact]
    public void Load_ExternalDataThroughSymlinkInsideFolder_Loads()
    {
        var model = ValidModel();
        var bytes = Weight(model).RawData.ToByteArray();
        Directory.CreateDirectory(Path.Combine(_modelFolder, "real"));
        File.WriteAllBytes(Path.Combine(_modelFolder, "real", "data.bin"), bytes);
        Directory.CreateSymbolicLink(Path.Combine(_modelFolder, "alias"), "real");
        MakeExternal(model, "alias/data.bin");

        var loaded = ModelReader.Load(Write(model));

        Assert.Equal(bytes, loaded.Graph["w"].Initializer!.Data.ToArray());
    }

    [Fact]
    public void Load_ExternalDataBeyondFileEnd_ThrowsNamingInitializer()
    {
        var model = ValidModel();
        File.WriteAllBytes(Path.Combine(_modelFolder, "data.bin"), new byte[20]);
        MakeExternal(model, "data.bin", offset: "8", length: "16");

        AssertRejected(Write(model), "initializer 'w'", "beyond the end", "data.bin");
    }

    [Fact]
    public void Load_ExternalDataNegativeOffset_ThrowsNamingInitializer()
    {
        var model = ValidModel();
        File.WriteAllBytes(Path.Combine(_modelFolder, "data.bin"), new byte[32]);
        MakeExternal(model, "data.bin", offset: "-4", length: "16");

        AssertRejected(Write(model), "initializer 'w'", "-4", "negative");
    }

    [Fact]
    public void Load_ExternalDataKeyGivenTwice_ThrowsNamingInitializer()
    {
        var model = ValidModel();
        File.WriteAllBytes(Path.Combine(_modelFolder, "data.bin"), new byte[32]);
        MakeExternal(model, "data.bin", offset: "0");
        Weight(model).ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "16" });

        AssertRejected(Write(model), "initializer 'w'", "'offset'", "twice");
    }

    [Fact]
    public void Load_GraphWithCycle_ThrowsNamingNode()
    {
        var model = ValidModel();
        // add reads z, which relu (reading y from add) produces: add -> relu -> add.
        model.Graph.Node[0].Input[0] = "z";

        AssertRejected(Write(model), "cycle", "node '");
    }

    [Fact]
    public void Load_NodeReadingUndefinedValue_ThrowsNamingNodeAndValue()
    {
        var model = ValidModel();
        model.Graph.Node[1].Input[0] = "ghost";

        AssertRejected(Write(model), "node 'relu'", "'ghost'");
    }

    [Fact]
    public void Load_TwoNodesWritingSameValue_ThrowsNamingValue()
    {
        var model = ValidModel();
        model.Graph.Node.Add(Node("again", "Neg", ["x"], ["y"]));

        AssertRejected(Write(model), "node 'again'", "'y'");
    }

    [Fact]
    public void Load_NodeListingOneOutputTwice_ThrowsNamingNode()
    {
        var model = ValidModel();
        model.Graph.Node.Add(Node("split", "Split", ["x"], ["a", "a"]));

        AssertRejected(Write(model), "node 'split'", "'a'", "twice");
    }

    [Fact]
    public void Load_NodeWithRepeatedAttribute_ThrowsNamingNode()
    {
        var model = ValidModel();
        var node = model.Graph.Node[1];
        node.Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 1 });
        node.Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 2 });

        AssertRejected(Write(model), "node 'relu'", "'alpha'", "twice");
    }

    [Fact]
    public void Load_GraphOutputNobodyProduces_ThrowsNamingOutput()
    {
        var model = ValidModel();
        model.Graph.Output.Add(FloatInfo("orphan", 1, 4));

        AssertRejected(Write(model), "graph output 'orphan'");
    }

    [Fact]
    public void Load_UnknownOperator_LoadsAndKeepsOpType()
    {
        var model = ValidModel();
        model.Graph.Node[1].OpType = "FancyActivation";

        var loaded = ModelReader.Load(Write(model));
        var reloaded = ModelReader.Load(ModelWriter.ToBytes(loaded));

        Assert.Equal("FancyActivation", loaded.Graph.Nodes.Single(n => n.Name == "relu").OpType);
        Assert.Equal("FancyActivation", reloaded.Graph.Nodes.Single(n => n.Name == "relu").OpType);
    }

    [Fact]
    public void Load_MissingFile_ThrowsNamingFile()
    {
        AssertRejected(Path.Combine(_modelFolder, "absent.onnx"), "not found");
    }

    /// <summary>x: float[1, 4] -> add = Add(x, w) -> y -> relu = Relu(y) -> z; w an inline float[4] initializer.</summary>
    private static ModelProto ValidModel()
    {
        var graph = new GraphProto { Name = "hostile" };
        graph.Input.Add(FloatInfo("x", 1, 4));
        graph.Output.Add(FloatInfo("z", 1, 4));
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float };
        w.Dims.Add(4);
        w.RawData = ByteString.CopyFrom(new byte[16]);
        graph.Initializer.Add(w);
        graph.Node.Add(Node("add", "Add", ["x", "w"], ["y"]));
        graph.Node.Add(Node("relu", "Relu", ["y"], ["z"]));
        var model = new ModelProto { IrVersion = 8, ProducerName = "hostile-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model;
    }

    private static TensorProto Weight(ModelProto model) => model.Graph.Initializer.Single(t => t.Name == "w");

    private static NodeProto Node(string name, string op, string[] inputs, string[] outputs)
    {
        var node = new NodeProto { Name = name, OpType = op };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        return node;
    }

    private static ValueInfoProto FloatInfo(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static void MakeExternal(ModelProto model, string location, string? offset = null, string? length = null)
    {
        var w = Weight(model);
        w.RawData = ByteString.Empty;
        w.DataLocation = TensorProto.Types.DataLocation.External;
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        if (offset is not null) w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset });
        if (length is not null) w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length });
    }

    private string Write(ModelProto model) => Write(model.ToByteArray());

    private string Write(byte[] bytes)
    {
        string path = Path.Combine(_modelFolder, "model.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void AssertRejected(string path, params string[] mentions)
    {
        var error = Assert.Throws<ModelFormatException>(() => ModelReader.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        foreach (var mention in mentions) Assert.Contains(mention, error.Message, StringComparison.Ordinal);
    }
}
