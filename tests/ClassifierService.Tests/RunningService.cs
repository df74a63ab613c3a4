using Microsoft.AspNetCore.Builder;
using OnnxTrainer.Tests;

namespace ClassifierService.Tests;

/// <summary>The service started in-process on Kestrel, on a free loopback port, serving the shipped ResNet backbone.</summary>
internal sealed class RunningService : IAsyncDisposable
{
    /// <summary>A classifier exported by onnx-trainer (labels and preprocessing in its metadata), shipped with the repository.</summary>
    public static readonly string Model = RepositoryPaths.Of("models/onnx/resnet-fmnist-source.onnx");

    private readonly WebApplication _app;

    private RunningService(WebApplication app, Uri address)
    {
        _app = app;
        Client = new HttpClient { BaseAddress = address };
    }

    /// <summary>A client whose base address is the service's.</summary>
    public HttpClient Client { get; }

    /// <param name="settings">More <c>--key=value</c> arguments, e.g. <c>--Classifier:MaxImageBytes=1000</c>.</param>
    public static async Task<RunningService> StartAsync(params string[] settings)
    {
        // Port 0: the system picks a free one, so test classes running at once never collide.
        var app = ClassifierApp.Build(["--model", Model, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=None", .. settings]);
        await app.StartAsync();
        return new RunningService(app, new Uri(app.Urls.Single()));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
