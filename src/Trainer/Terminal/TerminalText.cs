using System.Text;

namespace OnnxTrainer.Terminal;

/// <summary>
/// The one way text that comes from a file, a model or the data (names, labels, paths, messages quoting them) reaches the
/// terminal: control characters (ESC, newline, bell, the bidirectional overrides) are shown as escapes, never sent raw, so a
/// folder named with an ANSI sequence cannot repaint the screen and a message stays on one line; text inside Spectre markup
/// is also markup-escaped, so a '[' in a class name is printed, not parsed.
/// </summary>
public static class TerminalText
{
    /// <summary><paramref name="text"/> with control characters escaped (<c>\n</c>, <c>\e</c>, <c>\u202E</c>), for plain console writes.</summary>
    public static string Plain(string? text)
    {
        if (string.IsNullOrEmpty(text) || !text.Any(IsUnsafe)) return text ?? "";
        var safe = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (!IsUnsafe(c)) safe.Append(c);
            else safe.Append(c switch
            {
                '\n' => @"\n",
                '\r' => @"\r",
                '\t' => @"\t",
                '\u001b' => @"\e",
                _ => $"\\u{(int)c:X4}",
            });
        }
        return safe.ToString();
    }

    /// <summary><paramref name="text"/> made safe to put inside Spectre markup (a table cell, a <c>MarkupLine</c> argument).</summary>
    public static string Markup(string? text) => Spectre.Console.Markup.Escape(Plain(text));

    private static bool IsUnsafe(char c) =>
        char.IsControl(c) || c is (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');
}
