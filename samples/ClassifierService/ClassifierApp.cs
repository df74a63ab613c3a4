using Microsoft.AspNetCore.Server.Kestrel.Core;
using OnnxTrainer.Inference;

namespace ClassifierService;

/// <summary>Builds the service: configuration, the one <see cref="ImageClassifier"/> every request shares, the endpoints.</summary>
public static class ClassifierApp
{
    /// <summary>Reads the settings (appsettings.json, environment, <paramref name="args"/>), loads the model and maps the endpoints.</summary>
    /// <exception cref="InvalidOperationException">No model configured.</exception>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="FormatException">The model cannot be loaded or lacks onnx-trainer metadata.</exception>
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,

            // appsettings.json beside the binary, wherever it is started from; a relative --model is relative to the current directory.
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string>
        {
            ["--model"] = $"{ClassifierSettings.Section}:{nameof(ClassifierSettings.Model)}",
            ["--top"] = $"{ClassifierSettings.Section}:{nameof(ClassifierSettings.TopK)}",
        });
        var settings = builder.Configuration.GetSection(ClassifierSettings.Section).Get<ClassifierSettings>() ?? new ClassifierSettings();
        if (string.IsNullOrEmpty(settings.Model))
        {
            throw new InvalidOperationException("No model: pass --model PATH/model.onnx (or set Classifier:Model in appsettings.json or Classifier__Model in the environment).");
        }

        builder.Services.AddSingleton(settings);

        // One classifier for all requests: a session is expensive to create and safe to share between threads.
        builder.Services.AddSingleton(_ => ImageClassifier.Load(settings.Model, new ClassifierOptions { TopK = settings.TopK, Threads = settings.Threads }));
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.Limits.MaxRequestBodySize = settings.MaxImageBytes);

        var app = builder.Build();

        // Load it now, not on the first request: a bad model stops the start, and the first caller does not wait.
        app.Services.GetRequiredService<ImageClassifier>();
        app.MapPost("/classify", ClassifyEndpoint.Handle);
        app.MapGet("/model", ModelEndpoint.Handle);
        return app;
    }
}
