using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace OnnxTrainer.Recipes;

/// <summary>
/// Loads YAML (a recipe, or a <c>--set</c> value) into a tree only after reading its events once to check that the tree
/// is safe to build and to walk: nested at most <see cref="MaxDepth"/> deep and at most <see cref="MaxNodes"/> nodes
/// with every alias expanded (a "billion laughs" file is a few lines that expand to 10^9), and with no alias inside the
/// node its anchor names (a cycle). YamlDotNet's own errors get the position too; every error is "line, column, reason".
/// </summary>
internal static class BoundedYaml
{
    /// <summary>Deepest nesting of lists and mappings, aliases expanded; a recipe nests four or five deep.</summary>
    public const int MaxDepth = 64;

    /// <summary>Most nodes, aliases expanded; a recipe has a few hundred.</summary>
    public const int MaxNodes = 100_000;

    /// <param name="error">Makes the exception for a reason at a (1-based) line and column of <paramref name="text"/>.</param>
    public static YamlStream Load(string text, Func<Mark, string, RecipeException> error)
    {
        Check(text, error);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw error(e.Start, $"not valid YAML: {Explanation(e)}");
        }
        return stream;
    }

    /// <summary>A list or mapping being read: its start event (with its anchor), and the height and node count of what it holds so far.</summary>
    private sealed class OpenNode(NodeEvent start)
    {
        public NodeEvent Start { get; } = start;
        public int Height { get; set; } = 1;
        public long Count { get; set; } = 1;
    }

    /// <summary>What an anchor's node weighs when an alias repeats it.</summary>
    private readonly record struct Size(int Height, long Count);

    private static void Check(string text, Func<Mark, string, RecipeException> error)
    {
        var parser = new Parser(new StringReader(text));
        var anchors = new Dictionary<AnchorName, Size>();
        var open = new Stack<OpenNode>();
        long nodes = 0;
        Mark last = Mark.Empty;

        // A node of this size read (or, for an alias, repeated) at the current depth.
        void Add(ParsingEvent at, Size size)
        {
            if (open.Count + size.Height > MaxDepth) throw error(at.Start, $"nested more than {MaxDepth} lists or mappings deep{(at is AnchorAlias ? " once aliases are expanded" : "")}");
            nodes += size.Count;
            if (nodes > MaxNodes) throw error(at.Start, $"more than {MaxNodes:N0} values once aliases are expanded (an alias repeats the whole node its anchor names)");
            if (!open.TryPeek(out var parent)) return;
            parent.Height = Math.Max(parent.Height, size.Height + 1);
            parent.Count += size.Count;
        }

        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                last = current.Start;
                switch (current)
                {
                    case Scalar scalar:
                        Add(scalar, new Size(0, 1));
                        if (!scalar.Anchor.IsEmpty) anchors[scalar.Anchor] = new Size(0, 1);
                        break;
                    case SequenceStart or MappingStart:
                        if (open.Count == MaxDepth) throw error(current.Start, $"nested more than {MaxDepth} lists or mappings deep");
                        open.Push(new OpenNode((NodeEvent)current));
                        break;
                    case SequenceEnd or MappingEnd:
                        var closed = open.Pop();
                        var size = new Size(closed.Height, closed.Count);
                        Add(closed.Start, size);
                        if (!closed.Start.Anchor.IsEmpty) anchors[closed.Start.Anchor] = size;
                        break;
                    case AnchorAlias alias:
                        if (open.Any(node => node.Start.Anchor == alias.Value))
                            throw error(alias.Start, $"the alias *{alias.Value} is inside the node that &{alias.Value} names (a recursive anchor)");
                        if (!anchors.TryGetValue(alias.Value, out var repeated))
                            throw error(alias.Start, $"the alias *{alias.Value} names no anchor &{alias.Value} before it");
                        Add(alias, repeated);
                        break;
                }
            }
        }
        catch (YamlException e)
        {
            throw error(e.Start, $"not valid YAML: {Explanation(e)}");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way on a flow list or mapping left open before the next block key.
            var flow = open.FirstOrDefault(node => node.Start is SequenceStart { Style: SequenceStyle.Flow } or MappingStart { Style: MappingStyle.Flow });
            throw flow is null
                ? error(last, "not valid YAML")
                : error(flow.Start.Start, $"not valid YAML: this '{(flow.Start is SequenceStart ? '[' : '{')}' is not closed");
        }
    }

    /// <summary>YamlDotNet's message repeats the position it also gives as a mark; keep only the explanation.</summary>
    private static string Explanation(YamlException e)
    {
        var reason = e.InnerException?.Message ?? e.Message;
        return reason[(reason.IndexOf("): ", StringComparison.Ordinal) is var at and >= 0 ? at + 3 : 0)..];
    }
}
