using OnnxTrainer.Inference;
using OnnxTrainer.Onnx;

namespace OnnxTrainer.Cli;

/// <summary>
/// Loads a classifier for <c>predict</c>, <c>evaluate</c> and <c>export</c>: first through the trainer's <see cref="ModelReader"/>,
/// whose checks refuse, naming file and node, invalid models that ONNX Runtime loads and fails on only when it runs them
/// (a Conv of group 0); then through the Inference library, as an app would.
/// </summary>
internal static class CheckedClassifier
{
    public static ImageClassifier Load(string modelPath, int topK)
    {
        ModelReader.LoadImageModel(modelPath);
        return ImageClassifier.Load(modelPath, new ClassifierOptions { TopK = topK });
    }
}
