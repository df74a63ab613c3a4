using Google.Protobuf;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx;
using OnnxTrainer.Onnx.Protos;
using OnnxTrainer.Tests.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace OnnxTrainer.Tests.Onnx;

/// <summary>Loading that goes beyond one self-contained file: external weights and files over 100 MB.</summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class ModelLoadingTests(ITestOutputHelper output)
{
    [Fact]
    public void Load_InitializersInSideFile_ReadsSameBytesAndRunsIdentically()
    {
        using var temp = new TempFolder();
        string inlinePath = GeneratedFixtures.ModelPath("resnet_small");
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(inlinePath));
        // Every initializer goes to one side file after a 16-byte preamble, so offsets are never 0;
        // every other one omits "length", which then defaults to the size its shape needs.
        using (var side = File.Create(temp.File("weights.bin")))
        {
            side.Write(new byte[16]);
            int index = 0;
            foreach (var init in proto.Graph.Initializer)
            {
                init.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
                init.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = side.Position.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                if (index++ % 2 == 0)
                    init.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = init.RawData.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                side.Write(init.RawData.Span);
                init.RawData = ByteString.Empty;
                init.DataLocation = TensorProto.Types.DataLocation.External;
            }
        }
        string externalPath = temp.File("model.onnx");
        File.WriteAllBytes(externalPath, proto.ToByteArray());

        var inline = ModelReader.Load(inlinePath);
        var external = ModelReader.Load(externalPath);

        ModelEquivalence.AssertSame(inline, external);
        long[] shape = [1, 3, 64, 64];
        var input = Enumerable.Range(0, 3 * 64 * 64).Select(i => MathF.Sin(i)).ToArray();
        Assert.Equal(OrtRunner.Run(inlinePath, "input", input, shape), OrtRunner.Run(externalPath, "input", input, shape));
    }

    [Fact]
    public void Load_120MegabyteModel_AllocatesLessThanTwoAndAHalfTimesItsData()
    {
        using var temp = new TempFolder();
        string path = temp.File("large.onnx");
        const int tensors = 30;
        const int elements = 1 << 20; // 4 MiB per tensor, 120 MiB in all
        long dataBytes = (long)tensors * elements * sizeof(float);
        WriteLargeModel(path, tensors, elements);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long retainedBefore = GC.GetTotalMemory(forceFullCollection: true);
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var model = ModelReader.Load(path);

        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        long retained = GC.GetTotalMemory(forceFullCollection: true) - retainedBefore;
        output.WriteLine($"weights {dataBytes >> 20} MiB, allocated while loading {allocated >> 20} MiB, retained {retained >> 20} MiB");
        Assert.Equal(dataBytes, model.Graph.Initializers.Sum(v => (long)v.Initializer!.Data.Length));
        Assert.True(allocated < dataBytes * 5 / 2, $"loading {dataBytes >> 20} MiB of weights allocated {allocated >> 20} MiB");
        Assert.True(retained < dataBytes * 3 / 2, $"the loaded model holds {retained >> 20} MiB for {dataBytes >> 20} MiB of weights");
        GC.KeepAlive(model);
    }

    private static void WriteLargeModel(string path, int tensors, int elements)
    {
        var model = new Model();
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, elements));
        var random = new Random(7);
        var values = new float[elements];
        for (int t = 0; t < tensors; t++)
        {
            for (int i = 0; i < elements; i++) values[i] = (float)random.NextDouble();
            var weight = graph.AddInitializer($"w{t}", Tensor.FromFloats([elements], values));
            x = graph.AddNode("Add", [x, weight], [$"sum{t}"]).Output();
        }
        graph.Outputs.Add(x);
        ModelWriter.Save(model, path);
    }
}
