using System.Buffers.Binary;

namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>
/// The size a PNG or BMP header declares, read from its first bytes: where Skia refuses a header (0x0, or too large for
/// it) without saying why, the error can still say what the header claims.
/// </summary>
internal static class DeclaredSize
{
    /// <summary>How many leading bytes <see cref="Of"/> needs.</summary>
    public const int HeaderBytes = 26;

    /// <summary>The format's name and the width and height its header declares, or null for another format or too few bytes.</summary>
    public static (string Format, long Width, long Height)? Of(ReadOnlySpan<byte> header)
    {
        if (header.Length >= 24 && header[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A])
            && header[12..16].SequenceEqual("IHDR"u8))
        {
            return ("PNG", BinaryPrimitives.ReadUInt32BigEndian(header[16..]), BinaryPrimitives.ReadUInt32BigEndian(header[20..]));
        }

        if (header.Length >= HeaderBytes && header[0] == (byte)'B' && header[1] == (byte)'M')
        {
            // BITMAPCOREHEADER (12 bytes) has 16-bit sizes; the later headers 32-bit ones, a negative height meaning top-down rows.
            return BinaryPrimitives.ReadInt32LittleEndian(header[14..]) == 12
                ? ("BMP", BinaryPrimitives.ReadUInt16LittleEndian(header[18..]), BinaryPrimitives.ReadUInt16LittleEndian(header[20..]))
                : ("BMP", BinaryPrimitives.ReadInt32LittleEndian(header[18..]), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(header[22..])));
        }

        return null;
    }
}
