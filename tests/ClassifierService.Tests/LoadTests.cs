using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using OnnxTrainer.Inference;
using Xunit.Abstractions;

namespace ClassifierService.Tests;

/// <summary>Runs alone: the figures it prints are for BENCHMARKS.md, and other tests would share its cores.</summary>
[CollectionDefinition(nameof(LoadCollection), DisableParallelization = true)]
public sealed class LoadCollection;

/// <summary>
/// A bounded load test: 8 clients send 2,000 requests between them (then it stops by itself); every request must
/// succeed with the answer one client gets for the same image. Prints requests/s and latency percentiles, never asserts on them.
/// </summary>
[Collection(nameof(LoadCollection))]
public sealed class LoadTests(ITestOutputHelper output)
{
    private const int Clients = 8;
    private const int Requests = 2000;

    [Fact]
    public async Task Classify_EightConcurrentClients_NoErrorsAndSameAnswersAsOneClient()
    {
        var images = ValidationImages.Take(perClass: 8).Select(File.ReadAllBytes).ToArray();
        await using var service = await RunningService.StartAsync();
        var single = new string[images.Length];
        for (var i = 0; i < images.Length; i++)
        {
            single[i] = await Classify(service.Client, images[i]);
        }

        var wrong = new ConcurrentBag<string>();
        var (elapsed, latencies) = await RunClients(async (request, image) =>
        {
            var answer = await Classify(service.Client, images[image]);
            if (answer != single[image])
            {
                wrong.Add($"request {request} (image {image}): {answer}; one client got {single[image]}");
            }
        }, images.Length);
        Assert.Empty(wrong);
        Report("HTTP, 8 clients", elapsed, latencies);

        // The peer: the same work in-process, 8 threads calling the classifier directly, for the cost of HTTP and the endpoint.
        using var classifier = ImageClassifier.Load(RunningService.Model);
        (elapsed, latencies) = await RunClients((_, image) =>
        {
            classifier.Classify(images[image]);
            return Task.CompletedTask;
        }, images.Length);
        Report("in-process ImageClassifier.Classify(bytes), 8 threads", elapsed, latencies);
    }

    /// <summary>Runs <see cref="Requests"/> requests from <see cref="Clients"/> concurrent clients; returns the time and the sorted latencies (ms).</summary>
    private static async Task<(TimeSpan Elapsed, double[] Latencies)> RunClients(Func<int, int, Task> send, int images)
    {
        var latencies = new double[Requests];
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(async () =>
        {
            for (var request = Interlocked.Increment(ref next); request < Requests; request = Interlocked.Increment(ref next))
            {
                var start = Stopwatch.GetTimestamp();
                await send(request, request % images);
                latencies[request] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        })));
        var elapsed = clock.Elapsed;
        Array.Sort(latencies);
        return (elapsed, latencies);
    }

    private void Report(string path, TimeSpan elapsed, double[] sorted) => output.WriteLine(
        $"{path}: {Requests} requests in {elapsed.TotalSeconds:F2} s, {Requests / elapsed.TotalSeconds:F0} requests/s, " +
        $"latency p50 {Percentile(sorted, 0.50):F2} ms, p99 {Percentile(sorted, 0.99):F2} ms ({Environment.ProcessorCount} cores)");

    /// <summary>The response body, or a line saying what went wrong (so that it differs from every right answer).</summary>
    private static async Task<string> Classify(HttpClient client, byte[] image)
    {
        using var response = await client.PostAsync("/classify", new ByteArrayContent(image));
        var body = await response.Content.ReadAsStringAsync();
        return response.StatusCode == HttpStatusCode.OK ? body : $"HTTP {(int)response.StatusCode}: {body}";
    }

    private static double Percentile(double[] sorted, double fraction) => sorted[(int)Math.Ceiling(fraction * sorted.Length) - 1];
}
