using System.Diagnostics;
using System.Text.Json;
using OnnxTrainer.Ir.Shapes;
using OnnxTrainer.Onnx;
using OnnxTrainer.Training;

namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>
/// Our side of a case in a process of its own (<c>training-step-bench serve</c>, started by <see cref="StepPeer.Ort"/>):
/// the same JSON-lines protocol as the torch script's <c>serve</c>, so that the benchmark alternates the two sides' steps
/// and reads each process's peak resident memory, which is then the case's own.
/// </summary>
internal static class StepServer
{
    public static void Serve(BenchmarkOptions options, TextReader input, TextWriter output)
    {
        // Before anything else touches ONNX Runtime, as in the trainer: the sessions on all cores share one pool.
        SharedThreadPool.EnsureCreated();
        long baseline = ProcessMemory.ResidentBytes();
        OrtTrainingStep? step = null;
        try
        {
            while (input.ReadLine() is { } line)
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                object reply;
                try
                {
                    reply = Handle(JsonDocument.Parse(line).RootElement, options, baseline, ref step);
                }
                catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or Ir.GraphException)
                {
                    reply = new { error = e.Message };
                }
                output.WriteLine(JsonSerializer.Serialize(reply));
                output.Flush();
            }
        }
        finally
        {
            step?.Dispose();
        }
    }

    private static object Handle(JsonElement request, BenchmarkOptions options, long baseline, ref OrtTrainingStep? step)
    {
        switch (request.GetProperty("op").GetString())
        {
            case "prepare":
                if (step is not null) throw new InvalidOperationException("one case per process: its peak memory is the case's own");
                var model = request.GetProperty("model").GetString()!;
                var setting = request.GetProperty("setting").GetString()!;
                int batch = request.GetProperty("batch").GetInt32();
                var forward = ModelReader.Load(BenchmarkModels.PathOf(options.ModelsDir, model));
                ShapeInference.Run(forward.Graph, forward.OpsetVersion); // value types, by which the frozen prefix is split off
                var trainable = BenchmarkModels.Trainable(forward.Graph, options.ModelsDir, model, setting);
                string? optimized = options.SaveGraphsDir is { } dir ? Path.Combine(dir, $"{model}.{setting}.optimized.onnx") : null;
                string? built = options.SaveGraphsDir is { } saveDir ? Path.Combine(saveDir, $"{model}.{setting}.training.onnx") : null;
                step = new OrtTrainingStep(forward, trainable, batch, options.Threads, options.Chunks, optimizedModelPath: optimized, trainingModelPath: built);
                for (int i = 0; i < request.GetProperty("warmup").GetInt32(); i++) step.Step();
                return new
                {
                    ok = true, trainable = trainable.Count, nodes = step.NodeCount, chunks = step.Chunks, positions_per_image = step.PositionsPerImage,
                    build_ms = step.BuildTime.TotalMilliseconds, serialize_ms = step.SerializeTime.TotalMilliseconds,
                    session_ms = step.SessionTime.TotalMilliseconds,
                };
            case "step":
                var current = step ?? throw new InvalidOperationException("step before prepare");
                long start = Stopwatch.GetTimestamp();
                current.Step();
                return new { ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds, loss = current.Loss };
            case "memory":
                var arenas = step?.Arenas();
                return new
                {
                    baseline_rss = baseline, peak_rss = ProcessMemory.PeakResidentBytes(), rss = ProcessMemory.ResidentBytes(),
                    arena_reserved = arenas?.ReservedBytes, arena_peak_in_use = arenas?.PeakInUseBytes,
                };
            default:
                throw new InvalidOperationException($"unknown op {request.GetProperty("op")}");
        }
    }
}
