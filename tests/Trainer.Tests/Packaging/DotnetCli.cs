using Xunit;
using System.Diagnostics;

namespace OnnxTrainer.Tests.Packaging;

/// <summary>Runs the <c>dotnet</c> CLI (or a program it installed) as a user would, and fails the test with its output when it fails.</summary>
internal static class DotnetCli
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(5);

    /// <summary>The configuration the tests were built in: packing with --no-build reuses that build of the projects.</summary>
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif

    /// <summary>Runs <paramref name="program"/> in <paramref name="folder"/>; returns stdout, or fails the test with stdout and stderr.</summary>
    public static string Run(string folder, string program, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // No first-run banner, telemetry or build servers left running after the test.
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["UseSharedCompilation"] = "false";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', arguments)} ran over {Limit.TotalMinutes} minutes");
        }

        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{output.Result}\n{error.Result}");
        return output.Result;
    }

    /// <summary>Packs a project of the repository with its existing build (no compile: safe beside other tests) at a version of its own.</summary>
    public static void Pack(string project, string outputFolder, string version, params string[] properties) =>
        Run(RepositoryPaths.Of("."), "dotnet", ["pack", RepositoryPaths.Of(project), "-c", Configuration, "--no-build", "-o", outputFolder, $"-p:PackageVersion={version}", .. properties]);

    /// <summary>A version no earlier run used, so that no cached copy of an earlier package can stand in for this one.</summary>
    public static string UniqueVersion() => $"0.0.1-test.{Guid.NewGuid():N}";
}
