using Xunit;
using Xunit.Abstractions;
using System.Globalization;
using OnnxTrainer.Inference;
using OnnxTrainer.Tests.Onnx;


namespace OnnxTrainer.Tests.Packaging;

/// <summary>
/// What an app outside the repository does: a fresh console app restores OnnxTrainer.Inference from the packed .nupkg
/// (its dependencies from the usual feed) and classifies an image, built for net10.0 and net8.0.
/// </summary>
[Collection(nameof(PackagingCollection))]
public sealed class InferencePackageTests(ITestOutputHelper output)
{
    private const string Program = """
        using System.Globalization;
        using OnnxTrainer.Inference;

        using var classifier = ImageClassifier.Load(args[0]);
        var best = classifier.Classify(args[1])[0];
        Console.WriteLine($"{best.Index} {best.Label} {best.Probability.ToString("R", CultureInfo.InvariantCulture)}");
        Console.WriteLine($"(.NET {Environment.Version})");
        """;

    [Fact]
    public void FreshApp_RestoredFromPackage_ClassifiesLikeTheLibrary()
    {
        using var folder = new TempFolder();
        var version = DotnetCli.UniqueVersion();
        DotnetCli.Pack("src/Inference/Inference.csproj", folder.Sub("packages"), version);
        var app = folder.Sub("app");
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFrameworks>net10.0;net8.0</TargetFrameworks>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="OnnxTrainer.Inference" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), Program);

        // The packed package first; its dependencies (ONNX Runtime, SkiaSharp) from the user's usual feed.
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <configuration>
              <packageSources>
                <add key="packed" value="{folder.File("packages")}" />
              </packageSources>
            </configuration>
            """);
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        try
        {
            DotnetCli.Run(app, "dotnet", ["build", "-c", "Release"]);

            var model = RepositoryPaths.Of("models/onnx/resnet-fmnist-source.onnx");
            var image = Directory.GetFiles(RepositoryPaths.Of("data/fashion-target/val/Bag")).Order(StringComparer.Ordinal).First();
            using var library = ImageClassifier.Load(model);
            var best = library.Classify(image)[0];
            var expected = $"{best.Index} {best.Label} {best.Probability.ToString("R", CultureInfo.InvariantCulture)}";
            foreach (var framework in (string[])["net10.0", "net8.0"])
            {
                // Where the .NET 8 runtime is not installed, the net8.0 build runs on the newer one (roll forward).
                var answer = DotnetCli.Run(app, "dotnet", [Path.Combine(app, "bin", "Release", framework, "app.dll"), model, image],
                    new Dictionary<string, string> { ["DOTNET_ROLL_FORWARD"] = "Major" });
                var lines = answer.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                output.WriteLine($"{framework}: {string.Join(' ', lines)}");
                Assert.Equal(expected, lines[0]);
            }
        }
        finally
        {
            // The version is this run's alone: leave no copy of it in the machine's package cache.
            var cached = Path.Combine(packages, "onnxtrainer.inference", version);
            if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
        }
    }
}
