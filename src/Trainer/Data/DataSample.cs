namespace OnnxTrainer.Data;

/// <summary>One labelled image: where it comes from (a file path, or <c>file#index</c> for IDX) and its class index.</summary>
public readonly record struct DataSample(string Source, int Label);
