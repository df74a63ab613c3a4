// The smallest app that ships a classifier exported by onnx-trainer: labels and preprocessing come
// from the model file, so loading needs nothing else.
//   dotnet run --project samples/ClassifyImage -- artifacts/<run>/model.onnx photo.jpg [more.jpg ...]
using OnnxTrainer.Inference;
using OnnxTrainer.Inference.Preprocessing;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: ClassifyImage MODEL.onnx IMAGE [IMAGE...]");
    return 2;
}

using var classifier = ImageClassifier.Load(args[0], new ClassifierOptions { TopK = 3 });
var failed = false;
foreach (var image in args[1..])
{
    try
    {
        var predictions = classifier.Classify(image);
        Console.WriteLine($"{image}: {string.Join(", ", predictions.Select(p => $"{p.Label} {p.Probability:P1}"))}");
    }
    catch (ImageDecodeException e)
    {
        Console.Error.WriteLine(e.Message);
        failed = true;
    }
}

return failed ? 1 : 0;
