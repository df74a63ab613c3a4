using OnnxTrainer.Data;
using OnnxTrainer.Inference.Preprocessing;

namespace OnnxTrainer.Cli;

/// <summary>Errors in what a user passed to the deploy commands (a model's metadata, an image, a data folder), printed as one line.</summary>
internal static class CommandErrors
{
    public const int BadInput = 2;

    public static bool IsBadInput(Exception e) =>
        e is FormatException or ArgumentException or NotSupportedException or ImageDecodeException or DatasetException or System.Text.Json.JsonException;

    public static int Report(Exception e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return BadInput;
    }
}
