namespace OnnxTrainer.Recipes;

/// <summary>Layouts a labelled image set can come in.</summary>
public enum DataSourceKind
{
    /// <summary>One subfolder per class.</summary>
    ImageFolder,

    /// <summary>A <c>path,label</c> manifest, paths relative to the CSV file.</summary>
    Csv,

    /// <summary>MNIST-style IDX image and label files, gzip or raw.</summary>
    Idx,
}
