using System.Buffers.Binary;
using SkiaSharp;

namespace OnnxTrainer.Inference.Tests;

/// <summary>Writes small test images in every supported format, from a per-pixel color function.</summary>
public static class EncodedImages
{
    /// <summary>Encodes with Skia as PNG, JPEG or WebP; <paramref name="grayscale"/> writes a one-channel PNG/JPEG.</summary>
    public static byte[] Encode(
        int width,
        int height,
        Func<int, int, SKColor> pixel,
        SKEncodedImageFormat format,
        bool grayscale = false,
        int quality = 95)
    {
        var info = new SKImageInfo(width, height, grayscale ? SKColorType.Gray8 : SKColorType.Rgba8888, grayscale ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
        using var bitmap = new SKBitmap(info);
        var span = bitmap.GetPixelSpan();
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var color = pixel(x, y);
                if (grayscale)
                {
                    span[y * width + x] = color.Red;
                }
                else
                {
                    var offset = (y * width + x) * 4;
                    span[offset] = color.Red;
                    span[offset + 1] = color.Green;
                    span[offset + 2] = color.Blue;
                    span[offset + 3] = color.Alpha;
                }
            }
        }

        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    /// <summary>An uncompressed 24-bit BMP (Skia cannot encode BMP).</summary>
    public static byte[] Bmp(int width, int height, Func<int, int, SKColor> pixel)
    {
        var rowBytes = (width * 3 + 3) & ~3;
        var bytes = new byte[54 + rowBytes * height];
        bytes[0] = (byte)'B';
        bytes[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(2), bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(34), rowBytes * height);
        for (var y = 0; y < height; y++)
        {
            // BMP rows are stored bottom-up, pixels as BGR.
            var row = 54 + (height - 1 - y) * rowBytes;
            for (var x = 0; x < width; x++)
            {
                var color = pixel(x, y);
                bytes[row + 3 * x] = color.Blue;
                bytes[row + 3 * x + 1] = color.Green;
                bytes[row + 3 * x + 2] = color.Red;
            }
        }

        return bytes;
    }

    /// <summary>
    /// A GIF (Skia cannot encode GIF) with the given palette (at most 128 colors) and per-pixel index.
    /// Uses LZW with a clear code every 100 symbols, so codes never outgrow 8 bits.
    /// </summary>
    public static byte[] Gif(int width, int height, IReadOnlyList<SKColor> palette, Func<int, int, int> index)
    {
        const int minCodeSize = 7;
        const int clear = 1 << minCodeSize, end = clear + 1, codeBits = minCodeSize + 1;
        var output = new List<byte>();
        output.AddRange("GIF89a"u8.ToArray());
        output.AddRange([(byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0xF6, 0, 0]); // global table of 128
        for (var i = 0; i < 128; i++)
        {
            var color = i < palette.Count ? palette[i] : SKColors.Black;
            output.AddRange([color.Red, color.Green, color.Blue]);
        }

        output.AddRange([0x2C, 0, 0, 0, 0, (byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0, minCodeSize]);
        var codes = new List<int> { clear };
        var sinceClear = 0;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                if (sinceClear == 100)
                {
                    codes.Add(clear);
                    sinceClear = 0;
                }

                codes.Add(index(x, y));
                sinceClear++;
            }
        }

        codes.Add(end);
        var packed = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var code in codes)
        {
            buffer |= code << bits;
            bits += codeBits;
            while (bits >= 8)
            {
                packed.Add((byte)buffer);
                buffer >>= 8;
                bits -= 8;
            }
        }

        if (bits > 0)
        {
            packed.Add((byte)buffer);
        }

        foreach (var chunk in packed.Chunk(255))
        {
            output.Add((byte)chunk.Length);
            output.AddRange(chunk);
        }

        output.AddRange([0, 0x3B]);
        return [.. output];
    }

    /// <summary>Inserts an EXIF APP1 segment carrying <paramref name="orientation"/> (1-8) right after the JPEG's SOI marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] app1 =
        [
            0xFF, 0xE1, 0, 34,
            (byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0,
            (byte)'I', (byte)'I', 0x2A, 0, 8, 0, 0, 0, // little-endian TIFF header, IFD at 8
            1, 0, // one entry
            0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte)orientation, 0, 0, 0, // Orientation, SHORT, count 1
            0, 0, 0, 0, // no next IFD
        ];
        return [.. jpeg.AsSpan(0, 2), .. app1, .. jpeg.AsSpan(2)];
    }

    /// <summary>A structurally valid grayscale PNG whose header claims <paramref name="width"/> x <paramref name="height"/> pixels, with almost no data.</summary>
    public static byte[] PngHeaderClaiming(int width, int height)
    {
        var output = new List<byte>([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth; color type 0 (gray), no interlace
        AddChunk(output, "IHDR", header);
        AddChunk(output, "IDAT", [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]); // zlib of one zero byte
        AddChunk(output, "IEND", []);
        return [.. output];
    }

    private static void AddChunk(List<byte> output, string type, byte[] data)
    {
        var lengthBytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(lengthBytes, data.Length);
        output.AddRange(lengthBytes);
        byte[] typed = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        output.AddRange(typed);
        var crcBytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, Crc32(typed));
        output.AddRange(crcBytes);
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
