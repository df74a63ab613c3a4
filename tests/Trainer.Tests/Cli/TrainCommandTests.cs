using Microsoft.ML.OnnxRuntime;
using OnnxTrainer.Cli;
using OnnxTrainer.Inference;
using OnnxTrainer.Training;
using Xunit;

namespace OnnxTrainer.Tests.Cli;

[Collection(nameof(ConsoleCollection))]
public class TrainCommandTests
{
    [Theory]
    [InlineData("--chunks")]
    [InlineData("--threads")]
    public void Train_NegativeCount_RejectedBeforeTheRecipeIsRead(string option)
    {
        var (code, _, error) = ConsoleCapture.Run("train", "no-such-recipe.yaml", option, "-1");
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains($"{option} must be 0", error);
        Assert.DoesNotContain("no-such-recipe", error);
    }

    [Fact]
    public void Train_UnknownDevice_UsageError()
    {
        var (code, _, error) = ConsoleCapture.Run("train", "no-such-recipe.yaml", "--device", "tpu");
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("tpu", error);
        Assert.DoesNotContain("no-such-recipe", error);
    }

    [Fact]
    public void Train_CudaWithTheCpuPackage_OneLineNamingTheGpuPackage()
    {
        if (OrtEnv.Instance().GetAvailableProviders().Contains(CudaAvailability.ProviderName)) return; // a GPU build: see CudaAvailabilityTests

        var (code, _, error) = ConsoleCapture.Run("train", "no-such-recipe.yaml", "--device", "cuda");

        Assert.Equal(CommandLine.BadInput, code);
        Assert.Equal($"error: --device cuda: this ONNX Runtime build has no CUDA execution provider (it is the CPU package): use {CudaAvailability.GpuPackage} " +
            $"(onnx-trainer: build with -p:OnnxRuntimePackage={CudaAvailability.GpuPackage})", error.Trim());
    }

    [Fact]
    public void Train_EstimatedPeakAboveTheMemoryLimit_RefusedUpFrontWithOneLine()
    {
        string folder = Path.Combine(Path.GetTempPath(), "train-memory-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        string recipe = Path.Combine(folder, "recipe.yaml");
        string data = RepositoryPaths.Of("data/fashion-target");
        File.WriteAllText(recipe, $$"""
            name: too-large
            backbone: { path: {{RepositoryPaths.Of("models/onnx/resnet-fmnist-source.onnx")}} }
            strategy: fine-tune
            data:
              train: { kind: image-folder, path: {{data}}/train }
              val: { kind: image-folder, path: {{data}}/val }
            batch_size: 64
            """);
        string output = Path.Combine(folder, "run");
        try
        {
            Environment.SetEnvironmentVariable(AvailableMemory.LimitVariable, "64M");

            var (code, _, error) = ConsoleCapture.Run("train", recipe, "--out", output);

            Assert.Equal(CommandLine.BadInput, code);
            var line = Assert.Single(error.Trim().Split('\n'));
            Assert.Matches(@"^error: training would need about \d+\.\d GiB at its peak \(estimated: .* x batch 64\), more than the 0\.1 GiB available \(ONNX_TRAINER_MEMORY_LIMIT\)", line);
            Assert.False(Directory.Exists(output)); // refused before the run folder was made
        }
        finally
        {
            Environment.SetEnvironmentVariable(AvailableMemory.LimitVariable, null);
            Directory.Delete(folder, recursive: true);
        }
    }
}
