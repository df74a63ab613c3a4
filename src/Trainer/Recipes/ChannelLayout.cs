namespace OnnxTrainer.Recipes;

/// <summary>Colour channels the backbone expects.</summary>
public enum ChannelLayout
{
    Rgb,
    L,
}
