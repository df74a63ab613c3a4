using OnnxTrainer.Artifacts;
using YamlDotNet.RepresentationModel;

namespace OnnxTrainer.Recipes;

internal sealed partial class RecipeReader
{
    private static readonly string[] OptimizerKeys =
        ["kind", "learning_rate", "momentum", "nesterov", "weight_decay", "betas", "eps", "backbone_lr_scale", "lr_scale"];
    private static readonly string[] ScheduleKeys = ["kind", "warmup_epochs", "step_size", "gamma", "min_lr"];
    private static readonly string[] EarlyStoppingKeys = ["metric", "patience"];

    private static readonly Dictionary<string, OptimizerKind> OptimizerKinds = new() { ["sgd"] = OptimizerKind.Sgd, ["adamw"] = OptimizerKind.AdamW };

    private static readonly Dictionary<string, ScheduleKind> ScheduleKinds = new()
    {
        ["constant"] = ScheduleKind.Constant,
        ["step"] = ScheduleKind.Step,
        ["cosine"] = ScheduleKind.Cosine,
    };

    private static readonly Dictionary<string, EarlyStoppingMetric> Metrics = new()
    {
        ["val_loss"] = EarlyStoppingMetric.ValLoss,
        ["val_accuracy"] = EarlyStoppingMetric.ValAccuracy,
    };

    private static readonly Dictionary<string, ClassWeightsKind> ClassWeightsKinds = new()
    {
        ["none"] = ClassWeightsKind.None,
        ["balanced"] = ClassWeightsKind.Balanced,
    };

    private static OptimizerSpec ReadOptimizer(MappingReader? optimizer)
    {
        // Defaults are PyTorch's, with the learning rates commonly used for fine-tuning.
        var kind = optimizer?.Enum("kind", OptimizerKinds) ?? OptimizerKind.Sgd;
        bool sgd = kind == OptimizerKind.Sgd;
        double Positive(string key, double fallback)
        {
            var value = optimizer?.Double(key) ?? fallback;
            optimizer?.Require(key, value > 0, "must be > 0");
            return value;
        }

        var learningRate = Positive("learning_rate", sgd ? 0.01 : 0.001);
        var weightDecay = optimizer?.Double("weight_decay") ?? (sgd ? 0 : 0.01);
        optimizer?.Require("weight_decay", weightDecay >= 0, "must be >= 0");
        var backboneLrScale = Positive("backbone_lr_scale", 1);

        double momentum = 0.9, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        bool nesterov = false;
        if (optimizer is not null && sgd)
        {
            foreach (var key in new[] { "betas", "eps" }) optimizer.Forbid(key, "applies only to kind adamw (kind is sgd)");
            momentum = optimizer.Double("momentum") ?? momentum;
            optimizer.Require("momentum", momentum is >= 0 and < 1, "must be in [0, 1)");
            nesterov = optimizer.Bool("nesterov") ?? false;
            if (nesterov && momentum == 0) throw optimizer.Error("nesterov", "optimizer.nesterov needs optimizer.momentum > 0");
        }
        else if (optimizer is not null)
        {
            foreach (var key in new[] { "momentum", "nesterov" }) optimizer.Forbid(key, "applies only to kind sgd (kind is adamw)");
            if (optimizer.Get("betas") is { } betas)
            {
                var items = betas.Tuple(2, "must be two numbers [beta1, beta2]");
                (beta1, beta2) = (items[0].Double(), items[1].Double());
                betas.Require(beta1 is >= 0 and < 1 && beta2 is >= 0 and < 1, "must each be in [0, 1)");
            }
            eps = Positive("eps", eps);
        }

        var lrScale = optimizer?.Get("lr_scale")?.Items().Select(item =>
        {
            var rule = item.Mapping(["pattern", "scale"]);
            var pattern = rule.Required("pattern").String();
            var scale = rule.Required("scale").Double();
            rule.Require("scale", scale > 0, "must be > 0 (freeze parameters with trainable instead)");
            return new LearningRateScaleRule(pattern, scale);
        }).ToList() ?? [];

        return new OptimizerSpec(kind, learningRate, momentum, nesterov, weightDecay, beta1, beta2, eps, backboneLrScale, lrScale);
    }

    private static ScheduleSpec ReadSchedule(MappingReader? schedule, OptimizerSpec optimizer, int epochs)
    {
        var kind = schedule?.Enum("kind", ScheduleKinds) ?? ScheduleKind.Constant;
        var warmup = schedule?.Double("warmup_epochs") ?? 0;
        schedule?.Require("warmup_epochs", warmup >= 0 && warmup < epochs, $"must be >= 0 and less than the total epochs ({epochs})");

        int stepSize = 0;
        double gamma = 0.1, minLr = 0;
        if (kind != ScheduleKind.Step)
            foreach (var key in new[] { "step_size", "gamma" }) schedule?.Forbid(key, "applies only to kind step");
        if (kind != ScheduleKind.Cosine) schedule?.Forbid("min_lr", "applies only to kind cosine");
        if (kind == ScheduleKind.Step)
        {
            stepSize = schedule!.Required("step_size", "for kind step (epochs between decays)").Int();
            schedule.Require("step_size", stepSize >= 1, "must be at least 1");
            gamma = schedule.Double("gamma") ?? gamma;
            schedule.Require("gamma", gamma is > 0 and <= 1, "must be in (0, 1]");
        }
        else if (kind == ScheduleKind.Cosine)
        {
            minLr = schedule!.Double("min_lr") ?? 0;
            schedule.Require("min_lr", minLr >= 0 && minLr < optimizer.LearningRate, $"must be >= 0 and below optimizer.learning_rate ({optimizer.LearningRate})");
        }
        return new ScheduleSpec(kind, warmup, stepSize, gamma, minLr);
    }

    private static ClassWeightsSpec ReadClassWeights(YamlValue? value, DataSourceSpec train)
    {
        if (value is not { } weights) return ClassWeightsSpec.None;
        if (weights.Node is not YamlSequenceNode)
        {
            var kind = weights.Enum(ClassWeightsKinds);
            return kind == ClassWeightsKind.None ? ClassWeightsSpec.None : new ClassWeightsSpec(kind);
        }
        var explicitWeights = weights.Items().Select(item =>
        {
            var weight = item.Double();
            item.Require(weight > 0, "must be > 0");
            return weight;
        }).ToList();
        weights.Require(explicitWeights.Count > 0, "must list one weight per class");
        // The class count is known here only when the recipe picks a subset; otherwise the data loader checks it.
        int? classes = train.ClassSubset?.Count ?? train.LabelSubset?.Count;
        if (classes is not null && classes != explicitWeights.Count)
            throw weights.Error($"class_weights has {explicitWeights.Count} weights for the {classes} classes of data.train.classes");
        return new ClassWeightsSpec(ClassWeightsKind.Explicit, explicitWeights);
    }

    private static EarlyStoppingSpec? ReadEarlyStopping(MappingReader? earlyStopping)
    {
        if (earlyStopping is null) return null;
        var patience = earlyStopping.Int("patience") ?? 5;
        earlyStopping.Require("patience", patience >= 1, "must be at least 1 epoch");
        return new EarlyStoppingSpec(earlyStopping.Enum("metric", Metrics) ?? EarlyStoppingMetric.ValLoss, patience);
    }
}
