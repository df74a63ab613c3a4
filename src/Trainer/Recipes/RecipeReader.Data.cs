namespace OnnxTrainer.Recipes;

internal sealed partial class RecipeReader
{
    private static readonly string[] DataKeys = ["train", "val", "val_split", "augment", "cache_mb"];
    private static readonly string[] SourceKeys = ["kind", "path", "images", "labels", "classes", "class_names"];
    private static readonly string[] AugmentKeys = ["random_resized_crop", "horizontal_flip", "rotation", "color_jitter"];

    private static readonly Dictionary<string, DataSourceKind> SourceKinds = new()
    {
        ["image-folder"] = DataSourceKind.ImageFolder,
        ["csv"] = DataSourceKind.Csv,
        ["idx"] = DataSourceKind.Idx,
    };

    private const int DefaultCacheMb = 1024;

    private DataSpec ReadData(MappingReader data)
    {
        var train = ReadSource(data.Required("train").Mapping(SourceKeys));
        var val = data.Mapping("val", SourceKeys) is { } valSection ? ReadSource(valSection) : null;
        var valSplit = data.Double("val_split");
        data.Require("val_split", valSplit is null or (> 0 and < 1), "must be a fraction between 0 and 1 (exclusive)");
        if (val is not null && valSplit is not null) throw data.Error("val_split", "set either data.val or data.val_split, not both");
        var cacheMb = data.Int("cache_mb") ?? DefaultCacheMb;
        data.Require("cache_mb", cacheMb >= 0, "must be >= 0 (0 turns the cache off)");
        return new DataSpec(train, val, valSplit, ReadAugment(data.Mapping("augment", AugmentKeys)), cacheMb);
    }

    private DataSourceSpec ReadSource(MappingReader source)
    {
        var kind = source.Enum("kind", SourceKinds) ?? DataSourceKind.ImageFolder;
        string? path = null, images = null, labels = null;
        IReadOnlyList<string>? classSubset = null, classNames = null;
        IReadOnlyList<int>? labelSubset = null;
        if (kind == DataSourceKind.Idx)
        {
            source.Forbid("path", "does not apply to kind idx, which reads images and labels files");
            images = Resolve(source.Required("images", "for kind idx").String());
            labels = Resolve(source.Required("labels", "for kind idx").String());
            labelSubset = source.Get("classes")?.DistinctList(item =>
            {
                var label = item.Int();
                item.Require(label >= 0, "must be a label value >= 0");
                return label;
            });
            classNames = source.Get("class_names")?.DistinctList(item => item.String());
            if (labelSubset is not null && classNames is not null && classNames.Count != labelSubset.Count)
                throw source.Error("class_names", $"{source.PathOf("class_names")} has {classNames.Count} names for {labelSubset.Count} classes");
        }
        else
        {
            string kindName = NameOf(SourceKinds, kind);
            foreach (var key in new[] { "images", "labels", "class_names" })
                source.Forbid(key, $"applies only to kind idx (kind is {kindName})");
            path = Resolve(source.Required("path", kind == DataSourceKind.Csv ? "(the CSV manifest)" : "(the folder with one subfolder per class)").String());
            classSubset = source.Get("classes")?.DistinctList(item => item.String());
        }
        return new DataSourceSpec(kind, path, images, labels, classSubset, labelSubset, classNames);
    }

    private static AugmentSpec ReadAugment(MappingReader? augment)
    {
        if (augment is null) return AugmentSpec.None;

        var rotation = augment.Double("rotation") ?? 0;
        augment.Require("rotation", rotation is >= 0 and <= 180, "must be a maximum angle in degrees in [0, 180]");

        double flip = augment.Get("horizontal_flip") switch
        {
            null => 0,
            { IsBool: true } flag => flag.Bool() ? 0.5 : 0,
            var probability => probability.Value.Double(),
        };
        augment.Require("horizontal_flip", flip is >= 0 and <= 1, "must be true, false or a probability in [0, 1]");

        return new AugmentSpec(ReadRandomResizedCrop(augment.Get("random_resized_crop")), flip, rotation, ReadColorJitter(augment.Mapping("color_jitter", ["brightness", "contrast", "saturation"])));
    }

    private static RandomResizedCropSpec? ReadRandomResizedCrop(YamlValue? value)
    {
        // torchvision's defaults.
        const double minScale = 0.08, maxScale = 1, minRatio = 3.0 / 4, maxRatio = 4.0 / 3;
        if (value is not { } crop) return null;
        if (crop.IsBool) return crop.Bool() ? new RandomResizedCropSpec(minScale, maxScale, minRatio, maxRatio) : null;
        var section = crop.Mapping(["scale", "ratio"]);
        var (scaleLow, scaleHigh) = ReadRange(section.Get("scale"), (minScale, maxScale));
        section.Require("scale", scaleLow > 0 && scaleHigh <= 1, "must be area fractions in (0, 1]");
        var (ratioLow, ratioHigh) = ReadRange(section.Get("ratio"), (minRatio, maxRatio));
        section.Require("ratio", ratioLow > 0, "must be positive aspect ratios");
        return new RandomResizedCropSpec(scaleLow, scaleHigh, ratioLow, ratioHigh);
    }

    private static (double Low, double High) ReadRange(YamlValue? value, (double, double) fallback)
    {
        if (value is not { } range) return fallback;
        var items = range.Tuple(2, "must be two numbers [low, high]");
        var (low, high) = (items[0].Double(), items[1].Double());
        range.Require(low <= high, "must be [low, high] with low <= high");
        return (low, high);
    }

    private static ColorJitterSpec? ReadColorJitter(MappingReader? jitter)
    {
        if (jitter is null) return null;
        double Factor(string key)
        {
            var factor = jitter.Double(key) ?? 0;
            jitter.Require(key, factor >= 0, "must be >= 0");
            return factor;
        }
        return new ColorJitterSpec(Factor("brightness"), Factor("contrast"), Factor("saturation"));
    }
}
