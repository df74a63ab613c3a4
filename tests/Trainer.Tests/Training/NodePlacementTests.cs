using OnnxTrainer.Training;
using Xunit;

namespace OnnxTrainer.Tests.Training;

public class NodePlacementTests
{
    [Fact]
    public void ReadProfile_KernelEvents_OneEntryPerNodeWithProvider()
    {
        string path = Path.Combine(Path.GetTempPath(), $"placement-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """
            [
              {"cat":"Session","name":"model_run","ts":0,"dur":10},
              {"cat":"Node","name":"conv/Conv_fence_before","ts":1,"dur":0,"args":{"op_name":"Conv"}},
              {"cat":"Node","name":"conv/Conv_kernel_time","ts":1,"dur":5,"args":{"op_name":"Conv","provider":"CUDAExecutionProvider"}},
              {"cat":"Node","name":"shape/Shape_kernel_time","ts":6,"dur":1,"args":{"op_name":"Shape","provider":"CPUExecutionProvider"}},
              {"cat":"Node","name":"conv/Conv_kernel_time","ts":8,"dur":5,"args":{"op_name":"Conv","provider":"CUDAExecutionProvider"}}
            ]
            """);
        try
        {
            var placements = NodePlacement.ReadProfile(path);
            Assert.Equal([new("conv/Conv", "Conv", "CUDAExecutionProvider"), new NodePlacement("shape/Shape", "Shape", "CPUExecutionProvider")], placements);
            Assert.Equal("1 of 2 nodes on CUDAExecutionProvider, 1 on CPUExecutionProvider (Shape 1)", NodePlacement.Summarize(placements, "CUDAExecutionProvider"));
            Assert.Equal("all 2 nodes on CUDAExecutionProvider", NodePlacement.Summarize([placements[0], placements[0]], "CUDAExecutionProvider"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
