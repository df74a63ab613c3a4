namespace OnnxTrainer.Benchmarks.TrainingStep;

/// <summary>A case process's resident memory (bytes): before the case was built, its peak, now; our arenas where measured.</summary>
internal sealed record MemoryReading(long BaselineRss, long PeakRss, long Rss, long? ArenaReserved, long? ArenaPeakInUse);
