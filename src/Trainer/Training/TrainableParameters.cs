using OnnxTrainer.Recipes;

namespace OnnxTrainer.Training;

/// <summary>
/// Decides which parameters train in each stage from the recipe's strategy, <c>trainable</c> patterns,
/// <c>fine_tune_last</c> or stages. The new head always trains; frozen parameters stay initializers in the graphs.
/// A pattern that matches nothing or a block count larger than the backbone is a recipe error at that value.
/// </summary>
public static class TrainableParameters
{
    /// <param name="backboneBlocks">The backbone's parameters after the cut, in graph order, grouped into blocks (see <see cref="ParameterBlocks"/>).</param>
    /// <param name="headParameters">The new head's parameters in graph order.</param>
    public static TrainablePlan Resolve(Recipe recipe, IReadOnlyList<IReadOnlyList<string>> backboneBlocks, IReadOnlyList<string> headParameters)
    {
        var backbone = backboneBlocks.SelectMany(block => block).ToList();

        IEnumerable<string> Matching(IReadOnlyList<string> patterns, string path)
        {
            for (int i = 0; i < patterns.Count; i++)
                if (!backbone.Any(name => ParameterGlob.IsMatch(patterns[i], name)))
                    throw recipe.Error($"{path}.{i}", $"{path}.{i} '{patterns[i]}' matches no backbone parameter{Examples(backbone)}");
            return backbone.Where(name => patterns.Any(pattern => ParameterGlob.IsMatch(pattern, name)));
        }

        IEnumerable<string> LastBlocks(int count, string path) => count <= backboneBlocks.Count
            ? backboneBlocks.Skip(backboneBlocks.Count - count).SelectMany(block => block)
            : throw recipe.Error(path, $"{path} is {count} but the backbone has {backboneBlocks.Count} blocks");

        StagePlan Stage(int epochs, double learningRate, IEnumerable<string> trainableBackbone)
        {
            var chosen = trainableBackbone.ToHashSet();
            var trainable = backbone.Where(chosen.Contains).Concat(headParameters).ToList();
            return new StagePlan(epochs, learningRate, trainable, trainable.ToDictionary(name => name, name => LearningRateScale(recipe.Optimizer, name, chosen.Contains(name))));
        }

        var optimizer = recipe.Optimizer;
        for (int i = 0; i < optimizer.LrScale.Count; i++)
            if (!backbone.Concat(headParameters).Any(name => ParameterGlob.IsMatch(optimizer.LrScale[i].Pattern, name)))
                throw recipe.Error($"optimizer.lr_scale.{i}.pattern", $"optimizer.lr_scale.{i}.pattern '{optimizer.LrScale[i].Pattern}' matches no parameter{Examples(backbone)}");

        List<StagePlan> stages;
        if (recipe.Stages.Count > 0)
            stages = recipe.Stages.Select((stage, i) => Stage(stage.Epochs, stage.LearningRate ?? optimizer.LearningRate,
                stage.Trainable is { } patterns ? Matching(patterns, $"stages.{i}.trainable") : LastBlocks(stage.UnfreezeLast!.Value, $"stages.{i}.unfreeze_last"))).ToList();
        else
            stages = [Stage(recipe.Epochs, optimizer.LearningRate, recipe switch
            {
                { Trainable: { } patterns } => Matching(patterns, "trainable"),
                { Strategy: TransferStrategy.FeatureExtraction or TransferStrategy.Truncate } => [],
                { Strategy: TransferStrategy.FineTune, FineTuneLast: { } count } => LastBlocks(count, "fine_tune_last"),
                _ => backbone,
            })];

        return new TrainablePlan(stages, recipe.Strategy == TransferStrategy.FromScratch ? backbone : []);
    }

    /// <summary>The first matching <c>lr_scale</c> rule wins; otherwise backbone parameters get <c>backbone_lr_scale</c>, the head 1.</summary>
    private static double LearningRateScale(OptimizerSpec optimizer, string name, bool inBackbone) =>
        optimizer.LrScale.FirstOrDefault(rule => ParameterGlob.IsMatch(rule.Pattern, name))?.Scale ?? (inBackbone ? optimizer.BackboneLrScale : 1);

    private static string Examples(IReadOnlyList<string> names) =>
        names.Count == 0 ? " (the backbone has no parameters)" : $" (names look like {string.Join(", ", names.Take(3))}; 'onnx-trainer inspect' lists them all)";
}
