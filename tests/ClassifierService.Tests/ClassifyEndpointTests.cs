using System.Net;
using System.Text.Json.Nodes;
using OnnxTrainer.Cli;

namespace ClassifierService.Tests;

/// <summary>The endpoints over real HTTP: answers equal to the CLI's predict command, the model description, 400 and 413.</summary>
public sealed class ClassifyEndpointTests
{
    [Fact]
    public async Task Classify_ValidationImages_SameAnswersAsPredictCommand()
    {
        var images = ValidationImages.Take(perClass: 4);
        var expected = JsonNode.Parse(Predict(["predict", RunningService.Model, .. images, "--json"]))!.AsArray();
        await using var service = await RunningService.StartAsync();

        for (var i = 0; i < images.Length; i++)
        {
            var bytes = await File.ReadAllBytesAsync(images[i]);
            using var multipart = new MultipartFormDataContent { { new ByteArrayContent(bytes), "image", Path.GetFileName(images[i]) } };
            foreach (HttpContent body in (HttpContent[])[new ByteArrayContent(bytes), multipart])
            {
                using var response = await service.Client.PostAsync("/classify", body);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["predictions"]!.AsArray();
                var reference = expected[i]!["predictions"]!.AsArray();
                Assert.Equal(5, answer.Count);
                Assert.Equal(reference.Select(Class), answer.Select(Class));
                Assert.Equal(reference.Select(Probability), answer.Select(Probability));
            }
        }
    }

    [Fact]
    public async Task Model_ShippedBackbone_LabelsAndPreprocessingOfItsMetadata()
    {
        await using var service = await RunningService.StartAsync("--top", "3");

        var model = JsonNode.Parse(await service.Client.GetStringAsync("/model"))!;

        Assert.Equal(["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"], model["labels"]!.AsArray().Select(l => (string)l!));
        Assert.Equal(3, (int)model["topK"]!);
        var preprocessing = model["preprocessing"]!;
        Assert.Equal([32, 32], preprocessing["input_size"]!.AsArray().Select(v => (int)v!));
        Assert.Equal(32, (int)preprocessing["resize"]!);
        Assert.Equal([0.286, 0.286, 0.286], preprocessing["mean"]!.AsArray().Select(v => Math.Round((double)v!, 6)));
        Assert.Equal("RGB", (string)preprocessing["channels"]!);
    }

    [Fact]
    public async Task Classify_NotAnImage_BadRequestWithMessage()
    {
        var png = await File.ReadAllBytesAsync(ValidationImages.Take(1)[0]);
        await using var service = await RunningService.StartAsync();

        (HttpContent Body, string Message)[] cases =
        [
            (new ByteArrayContent("not an image"u8.ToArray()), "Not a readable image"),
            (new ByteArrayContent(png[..(png.Length / 2)]), "Not a readable image"),
            (new ByteArrayContent([]), "Empty body"),
            (new MultipartFormDataContent { { new StringContent("photo.jpg"), "name" } }, "has no file"),
        ];
        foreach (var (body, message) in cases)
        {
            using var response = await service.Client.PostAsync("/classify", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(message, (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Classify_BodyOverLimit_PayloadTooLarge()
    {
        var png = await File.ReadAllBytesAsync(ValidationImages.Take(1)[0]);
        var limit = png.Length + 100;
        await using var service = await RunningService.StartAsync($"--Classifier:MaxImageBytes={limit}");
        var large = new byte[limit + 1];

        // As uploaders of large files do: the service answers before the body is sent, rather than closing the connection while it is.
        service.Client.DefaultRequestHeaders.ExpectContinue = true;

        // With a Content-Length, without one (chunked: Kestrel stops reading at the limit), and as a multipart file.
        HttpContent[] tooLarge =
        [
            new ByteArrayContent(large),
            new PushStreamContent(large),
            new MultipartFormDataContent { { new ByteArrayContent(large), "image", "large.png" } },
        ];
        foreach (var body in tooLarge)
        {
            using var response = await service.Client.PostAsync("/classify", body);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Contains($"larger than {limit} bytes", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var fits = await service.Client.PostAsync("/classify", new ByteArrayContent(png));
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
    }

    private static string Class(JsonNode? prediction) => $"{(int)prediction!["index"]!} {(string)prediction["label"]!}";

    private static float Probability(JsonNode? prediction) => (float)prediction!["probability"]!;

    /// <summary>Runs the CLI in-process and returns its stdout (no other test of this assembly writes to the console).</summary>
    private static string Predict(string[] args)
    {
        var stdout = Console.Out;
        using var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, CommandLine.Run(args));
        }
        finally
        {
            Console.SetOut(stdout);
        }

        return output.ToString();
    }

    /// <summary>A body of unknown length, which HttpClient sends chunked.</summary>
    private sealed class PushStreamContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
