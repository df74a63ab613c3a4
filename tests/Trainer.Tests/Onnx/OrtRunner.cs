using Microsoft.ML.OnnxRuntime;

namespace OnnxTrainer.Tests.Onnx;

/// <summary>Runs a model file once in ONNX Runtime on the CPU and returns its first output as floats.</summary>
internal static class OrtRunner
{
    public static float[] Run(string modelPath, string inputName, float[] input, long[] shape)
    {
        // One thread: results are then bit-for-bit reproducible, and the test machine has few cores.
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var session = new InferenceSession(modelPath, options);
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [inputName], [value], [session.OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
