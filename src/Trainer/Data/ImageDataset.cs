using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Data;

/// <summary>
/// A labelled image collection: <see cref="Classes"/> (names, sorted ordinal for folder and CSV
/// sources; label order for IDX), <see cref="Samples"/>, and decoding of sample <c>i</c>. Open one
/// with <see cref="FromFolder"/>, <see cref="FromCsv"/> or <see cref="FromIdx"/>; derive subsets with
/// <see cref="SelectClasses"/>, <see cref="SplitStratified"/> and <see cref="AlignTo"/>. Files that
/// cannot be used are left out and listed in <see cref="Skipped"/>; a dataset that cannot be trained
/// on at all throws <see cref="DatasetException"/> when opened. Immutable and thread-safe.
/// </summary>
public sealed class ImageDataset
{
    private readonly DataSample[] _samples;
    private readonly int[] _keys;
    private readonly IPixelSource _source;
    private readonly SkipLog _skipLog;

    private ImageDataset(IReadOnlyList<string> classes, DataSample[] samples, int[] keys, IPixelSource source, SkipLog skipLog)
    {
        Classes = classes;
        _samples = samples;
        _keys = keys;
        _source = source;
        _skipLog = skipLog;
        var counts = new int[classes.Count];
        foreach (var sample in samples)
        {
            counts[sample.Label]++;
        }

        ClassCounts = counts;
    }

    /// <summary>Class names; a sample's label indexes this list. This order is the model's output order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The usable samples found when the dataset was opened.</summary>
    public IReadOnlyList<DataSample> Samples => _samples;

    /// <summary>Number of samples.</summary>
    public int Count => _samples.Length;

    /// <summary>Samples per class, indexed like <see cref="Classes"/>: the class balance to report.</summary>
    public IReadOnlyList<int> ClassCounts { get; }

    /// <summary>
    /// Files left out so far, sorted by path, with reasons: those refused when the dataset was
    /// opened, plus those a <see cref="DataLoader"/> found damaged while decoding (shared with the
    /// datasets derived from the same source).
    /// </summary>
    public IReadOnlyList<SkippedFile> Skipped => _skipLog.Snapshot();

    /// <summary>Opens an ImageFolder tree: ROOT/&lt;class&gt;/**/&lt;image&gt; (jpg, jpeg, png, bmp, gif, webp; hidden entries ignored).</summary>
    /// <exception cref="DatasetException">Missing root, no class folders, no usable image at all or in some class.</exception>
    public static ImageDataset FromFolder(string root, ScanOptions? options = null)
    {
        var (classes, files) = ImageFolderSource.Enumerate(root);
        return FromFiles($"image folder '{root}'", classes, files, options ?? new ScanOptions());
    }

    /// <summary>Opens a CSV manifest of <c>path,label</c> rows (paths relative to the CSV, optional header, quoted fields).</summary>
    /// <exception cref="DatasetException">Unreadable or malformed CSV (file and line named), no usable image at all or in some class.</exception>
    public static ImageDataset FromCsv(string csvPath, ScanOptions? options = null)
    {
        var (classes, files) = CsvManifestSource.Read(csvPath);
        return FromFiles($"CSV manifest '{csvPath}'", classes, files, options ?? new ScanOptions());
    }

    /// <summary>
    /// Opens IDX image and label files (MNIST / Fashion-MNIST format, gzip or raw). Classes are the
    /// label values 0..max in order, named by <paramref name="classNames"/> or else by their number.
    /// </summary>
    /// <exception cref="DatasetException">Unreadable or malformed files, mismatched counts, a label without a name, a class without images.</exception>
    /// <param name="keepLabels">
    /// Keep only these label values (relabelled 0..k-1 as <see cref="SelectClasses"/> does) before the dataset is checked,
    /// so files whose other label values have no images open too.
    /// </param>
    public static ImageDataset FromIdx(string imagesPath, string labelsPath, IReadOnlyList<string>? classNames = null, IReadOnlyList<int>? keepLabels = null)
    {
        var source = IdxPixelSource.Read(imagesPath, labelsPath);
        var classCount = source.Labels.Length == 0 ? 0 : source.Labels.Max() + 1;
        if (classNames is not null && classNames.Count < classCount)
        {
            throw new DatasetException($"'{labelsPath}' uses labels up to {classCount - 1} but only {classNames.Count} class names were given.");
        }

        // Zero-padded numbers sort ordinal in numeric order.
        var digits = (Math.Max(classCount, 1) - 1).ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
        var classes = classNames?.ToArray()
            ?? Enumerable.Range(0, classCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits, '0')).ToArray();
        var samples = new DataSample[source.Count];
        var keys = new int[source.Count];
        for (var i = 0; i < source.Count; i++)
        {
            samples[i] = new DataSample($"{imagesPath}#{i}", source.Labels[i]);
            keys[i] = i;
        }

        var dataset = new ImageDataset(classes, samples, keys, source, new SkipLog());
        if (keepLabels is not null)
        {
            if (keepLabels.Where(l => l < 0 || l >= classCount).Select(l => (int?)l).FirstOrDefault() is int missing)
            {
                throw new DatasetException($"'{labelsPath}' has no label {missing} (labels go up to {classCount - 1}).");
            }

            dataset = dataset.SelectClasses(keepLabels);
        }

        dataset.EnsureTrainable($"IDX files '{imagesPath}'");
        return dataset;
    }

    /// <summary>
    /// The samples of the given classes only, relabelled 0..k-1 in ascending order of the original
    /// index (so names stay sorted): e.g. Fashion-MNIST classes 5-9 become a 5-class task.
    /// </summary>
    /// <exception cref="ArgumentException">An index is out of range or repeated.</exception>
    public ImageDataset SelectClasses(IReadOnlyList<int> classIndices)
    {
        ArgumentNullException.ThrowIfNull(classIndices);
        if (classIndices.Count == 0 || classIndices.Any(c => c < 0 || c >= Classes.Count) || classIndices.Distinct().Count() != classIndices.Count)
        {
            throw new ArgumentException($"Class indices must be distinct and within 0..{Classes.Count - 1}.", nameof(classIndices));
        }

        var kept = classIndices.Order().ToArray();
        var newLabel = Enumerable.Repeat(-1, Classes.Count).ToArray();
        for (var i = 0; i < kept.Length; i++)
        {
            newLabel[kept[i]] = i;
        }

        var indices = Enumerable.Range(0, Count).Where(i => newLabel[_samples[i].Label] >= 0).ToArray();
        return Derive(kept.Select(c => Classes[c]).ToArray(), indices, label => newLabel[label]);
    }

    /// <summary>
    /// Splits off a validation set, stratified: in each class a seeded random
    /// <paramref name="validationFraction"/> of the samples (rounded; at least one stays in training).
    /// Both parts keep all classes and the original sample order.
    /// </summary>
    public (ImageDataset Train, ImageDataset Validation) SplitStratified(double validationFraction, int seed)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "Must be between 0 and 1 (exclusive).");
        }

        var isValidation = new bool[Count];
        for (var label = 0; label < Classes.Count; label++)
        {
            var members = Enumerable.Range(0, Count).Where(i => _samples[i].Label == label).ToArray();
            var random = new DeterministicRandom(seed, DeterministicRandom.Purpose.Split, label);
            random.Shuffle(members.AsSpan());
            var take = Math.Min((int)Math.Round(members.Length * validationFraction, MidpointRounding.AwayFromZero), members.Length - 1);
            foreach (var index in members.AsSpan(0, Math.Max(take, 0)))
            {
                isValidation[index] = true;
            }
        }

        var train = Derive(Classes, Enumerable.Range(0, Count).Where(i => !isValidation[i]).ToArray(), label => label);
        var validation = Derive(Classes, Enumerable.Range(0, Count).Where(i => isValidation[i]).ToArray(), label => label);
        return (train, validation);
    }

    /// <summary>
    /// This dataset (a separate validation source) relabelled with <paramref name="train"/>'s classes,
    /// matched by name. It may lack some training classes, but not have extra ones.
    /// </summary>
    /// <exception cref="DatasetException">A class is unknown to <paramref name="train"/>, or this dataset is empty.</exception>
    public ImageDataset AlignTo(ImageDataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        var trainIndex = train.Classes.Select((name, index) => (name, index)).ToDictionary(p => p.name, p => p.index, StringComparer.Ordinal);
        var unknown = Classes.Where((name, label) => ClassCounts[label] > 0 && !trainIndex.ContainsKey(name)).ToArray();
        if (unknown.Length > 0)
        {
            throw new DatasetException($"Validation classes unknown to training: {string.Join(", ", unknown.Select(n => $"'{n}'"))}. Training classes: {string.Join(", ", train.Classes)}.");
        }

        if (Count == 0)
        {
            throw new DatasetException("The validation dataset has no usable image.");
        }

        return Derive(train.Classes, Enumerable.Range(0, Count).ToArray(), label => trainIndex[Classes[label]]);
    }

    /// <summary>
    /// Inverse-frequency class weights, Count / (classes * count of the class), so a balanced dataset
    /// gets all 1; 0 for a class without samples. For a weighted loss when classes are imbalanced.
    /// </summary>
    public IReadOnlyList<float> ClassWeights() =>
        ClassCounts.Select(n => n == 0 ? 0f : (float)Count / (Classes.Count * n)).ToArray();

    /// <summary>Decodes sample <paramref name="index"/> in <paramref name="channels"/>; thread-safe.</summary>
    /// <exception cref="ImageDecodeException">The file turned out to be damaged (e.g. truncated).</exception>
    public PixelImage Decode(int index, ChannelFormat channels) => _source.Decode(_keys[index], channels);

    /// <summary>Records that sample <paramref name="index"/> failed to decode, so it is skipped from now on.</summary>
    internal void RecordSkip(int index, ImageDecodeException error) => _skipLog.Add(_samples[index].Source, error);

    /// <summary>Whether sample <paramref name="index"/> is known to be unusable.</summary>
    /// <summary>
    /// Marks files of this dataset as unusable that an earlier process found damaged (a resumed run reads them from its
    /// checkpoint), so that batches are formed as they were then without decoding them again; other paths are ignored.
    /// </summary>
    public void MarkSkipped(IEnumerable<string> paths)
    {
        var sources = _samples.Select(s => s.Source).ToHashSet(StringComparer.Ordinal);
        foreach (var path in paths.Where(sources.Contains))
            _skipLog.Add(new SkippedFile(path, DecodeFailure.Corrupt, "found damaged by this run before it was resumed"));
    }

    internal bool IsSkipped(int index) => _skipLog.Contains(_samples[index].Source);

    /// <summary>Samples per class that are not (yet) known to be unusable, indexed like <see cref="Classes"/>.</summary>
    public IReadOnlyList<int> UsableClassCounts()
    {
        var counts = new int[Classes.Count];
        for (int i = 0; i < Count; i++)
            if (!IsSkipped(i)) counts[_samples[i].Label]++;
        return counts;
    }

    private static ImageDataset FromFiles(string description, IReadOnlyList<string> classes, List<(string Path, int Label)> files, ScanOptions options)
    {
        var source = new FilePixelSource(files.Select(f => f.Path).ToArray(), options.MaxPixels);
        var log = new SkipLog();
        var usable = source.Scan(options, log);
        var keys = Enumerable.Range(0, files.Count).Where(key => usable[key]).ToArray();
        var samples = keys.Select(key => new DataSample(files[key].Path, files[key].Label)).ToArray();
        var dataset = new ImageDataset(classes, samples, keys, source, log);
        dataset.EnsureTrainable(description);
        return dataset;
    }

    /// <summary>The same samples with other class names (one per class, in label order), e.g. names for an IDX subset.</summary>
    /// <exception cref="ArgumentException">The count differs from the number of classes.</exception>
    public ImageDataset WithClassNames(IReadOnlyList<string> names)
    {
        if (names.Count != Classes.Count)
        {
            throw new ArgumentException($"{names.Count} class names for {Classes.Count} classes.", nameof(names));
        }

        return Derive([.. names], [.. Enumerable.Range(0, Count)], label => label);
    }

    private ImageDataset Derive(IReadOnlyList<string> classes, int[] indices, Func<int, int> relabel) => new(
        classes,
        indices.Select(i => _samples[i] with { Label = relabel(_samples[i].Label) }).ToArray(),
        indices.Select(i => _keys[i]).ToArray(),
        _source,
        _skipLog);

    private void EnsureTrainable(string description)
    {
        var skipped = _skipLog.Count > 0 ? $" ({_skipLog.Count} file(s) skipped, see the log)" : string.Empty;
        if (Count == 0)
        {
            throw new DatasetException($"The {description} has no usable image{skipped}.");
        }

        var empty = Classes.Where((_, label) => ClassCounts[label] == 0).ToArray();
        if (empty.Length > 0)
        {
            throw new DatasetException($"In the {description}, class(es) {string.Join(", ", empty.Select(n => $"'{n}'"))} have no usable image{skipped}.");
        }
    }
}
