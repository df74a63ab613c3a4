using Xunit;

namespace OnnxTrainer.Tests.Cli;

[Collection(nameof(ConsoleCollection))]
public class TrainCommandTests
{
    [Theory]
    [InlineData("--chunks")]
    [InlineData("--threads")]
    public void Train_NegativeCount_RejectedBeforeTheRecipeIsRead(string option)
    {
        var (code, _, error) = ConsoleCapture.Run("train", "no-such-recipe.yaml", option, "-1");
        Assert.NotEqual(0, code);
        Assert.Contains($"{option} must be 0", error);
        Assert.DoesNotContain("no-such-recipe", error);
    }
}
