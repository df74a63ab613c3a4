namespace OnnxTrainer.Tests.Fixtures;

/// <summary>
/// Models that scripts/setup.sh puts under models/ (git-ignored): ML.NET's ImageNet ResNet-18 from its NuGet package.
/// Tests that need them fail with a message saying how to get them.
/// </summary>
public static class SetupFixtures
{
    /// <summary>CNTK 2.6 export, IR 3, opset 8, input Input247 [1, 3, 224, 224], output Pooling395_Output_0 [1, 512, 1, 1].</summary>
    public static string ImageNetResNet18 => Require("models/imagenet/ResNet18.onnx");

    private static string Require(string relative)
    {
        string path = RepositoryPaths.Of(relative);
        if (!File.Exists(path))
            throw new InvalidOperationException($"'{path}' is missing: run scripts/setup.sh (it restores the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18)");
        return path;
    }
}
