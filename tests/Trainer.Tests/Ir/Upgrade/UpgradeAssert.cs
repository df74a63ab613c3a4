using Xunit;

namespace OnnxTrainer.Tests.Ir.Upgrade;

/// <summary>Element-wise comparison of an upgraded model's outputs with the original's (float32 arithmetic on both sides).</summary>
internal static class UpgradeAssert
{
    public static void Close(IReadOnlyList<double> expected, IReadOnlyList<double> actual, string what, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            bool bothNaN = double.IsNaN(expected[i]) && double.IsNaN(actual[i]);
            Assert.True(bothNaN || Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])),
                $"{what}: element {i} is {actual[i]}, expected {expected[i]}");
        }
    }
}
