using OnnxTrainer.Data;
using OnnxTrainer.Recipes;

namespace OnnxTrainer.Training;

/// <summary>The training and validation image sets a recipe names, with class subsets applied and the validation split made.</summary>
public sealed record RunDatasets(ImageDataset Train, ImageDataset? Validation)
{
    public static RunDatasets Open(DataSpec data, int seed)
    {
        var train = Open(data.Train);
        // One class is no classification: its model would score "100 %" without having learnt anything.
        if (train.Classes.Count < 2)
            throw new DatasetException($"{SourceName(data.Train)}: the training data has {train.Classes.Count} class ({string.Join(", ", train.Classes)}); a classifier needs at least 2");
        if (data.Val is { } val) return new RunDatasets(train, Open(val).AlignTo(train));
        if (data.ValSplit is double fraction)
        {
            var (trainPart, validation) = train.SplitStratified(fraction, seed);
            return new RunDatasets(trainPart, validation);
        }
        return new RunDatasets(train, null);
    }

    private static ImageDataset Open(DataSourceSpec source)
    {
        switch (source.Kind)
        {
            case DataSourceKind.ImageFolder:
                return ByName(ImageDataset.FromFolder(source.Path!), source.ClassSubset);
            case DataSourceKind.Csv:
                return ByName(ImageDataset.FromCsv(source.Path!), source.ClassSubset);
            case DataSourceKind.Idx:
            {
                // Names come for the subset in its order when there is one, else for every label value.
                var subset = source.LabelSubset;
                var dataset = ImageDataset.FromIdx(source.Images!, source.Labels!, subset is null ? source.ClassNames : null, subset);
                if (subset is null || source.ClassNames is not { } names) return dataset;
                // The subset is relabelled in order of label value; put the names in that order.
                var byLabel = subset.Zip(names).OrderBy(p => p.First).Select(p => p.Second).ToList();
                return dataset.WithClassNames(byLabel);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(source), source.Kind, "unknown data source kind");
        }
    }

    /// <summary>The file or folder a source reads, for messages.</summary>
    public static string SourceName(DataSourceSpec source) => source.Path ?? source.Images!;

    private static ImageDataset ByName(ImageDataset dataset, IReadOnlyList<string>? classes)
    {
        if (classes is null) return dataset;
        var indices = classes.Select(name => dataset.Classes.ToList().IndexOf(name) is var i and >= 0
            ? i : throw new DatasetException($"class '{name}' is not among the data's classes ({string.Join(", ", dataset.Classes)})")).ToList();
        return dataset.SelectClasses(indices);
    }
}
