namespace OnnxTrainer.Inference.Preprocessing;

/// <summary>
/// Finds damage in a baseline JPEG's entropy-coded data, which libjpeg (inside Skia) only warns about and decodes anyway
/// into gray or smeared blocks: a Huffman code no table holds, a scan that hits a marker before its last block ("premature
/// end of data segment") or has bytes left after it ("extraneous bytes before marker"), restart markers out of order. It
/// walks the Huffman codes of every block without computing pixels. Progressive, arithmetic-coded and lossless JPEGs are
/// not checked.
/// </summary>
internal static class JpegScanCheck
{
    /// <summary>What is damaged, or null where the data decodes to whole blocks (or the kind is not checked).</summary>
    public static string? FindDamage(ReadOnlySpan<byte> jpeg)
    {
        var tables = new HuffmanTable?[8]; // DC 0-3, AC 4-7
        Frame? frame = null;
        int restartInterval = 0;
        int position = 2; // after SOI
        while (position + 4 <= jpeg.Length)
        {
            if (jpeg[position] != 0xFF) return "bytes between segments where a marker belongs";
            byte marker = jpeg[position + 1];
            if (marker == 0xFF)
            {
                position++; // fill byte
                continue;
            }

            if (marker == 0xD9) return null; // EOI
            if (marker is >= 0xD0 and <= 0xD7 or 0x01)
            {
                position += 2; // a marker without a segment
                continue;
            }

            int length = jpeg[position + 2] << 8 | jpeg[position + 3];
            if (length < 2 || position + 2 + length > jpeg.Length) return null; // truncated: Skia reports that itself
            var segment = jpeg.Slice(position + 4, length - 2);
            position += 2 + length;
            switch (marker)
            {
                case 0xC0 or 0xC1:
                    frame = Frame.Read(segment);
                    if (frame is null) return "a frame header that does not add up";
                    break;
                case >= 0xC2 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC:
                    return null; // progressive, lossless or arithmetic: not checked
                case 0xC4:
                    if (!HuffmanTable.ReadAll(segment, tables)) return "a Huffman table that does not add up";
                    break;
                case 0xDD:
                    restartInterval = segment.Length >= 2 ? segment[0] << 8 | segment[1] : 0;
                    break;
                case 0xDA:
                    if (frame is null) return null;
                    var scan = new ScanReader(jpeg, position);
                    if (scan.Read(frame, segment, tables, restartInterval) is { } damage) return damage;
                    position = scan.Position;
                    break;
            }
        }

        return null;
    }

    private sealed record Component(int Id, int H, int V);

    private sealed record Frame(int Width, int Height, Component[] Components)
    {
        public int MaxH => Components.Max(c => c.H);

        public int MaxV => Components.Max(c => c.V);

        public static Frame? Read(ReadOnlySpan<byte> segment)
        {
            if (segment.Length < 6) return null;
            int height = segment[1] << 8 | segment[2], width = segment[3] << 8 | segment[4], count = segment[5];
            if (width == 0 || height == 0 || count == 0 || segment.Length < 6 + 3 * count) return null;
            var components = new Component[count];
            for (int i = 0; i < count; i++)
            {
                byte sampling = segment[7 + 3 * i];
                components[i] = new Component(segment[6 + 3 * i], sampling >> 4, sampling & 15);
                if (components[i].H is < 1 or > 4 || components[i].V is < 1 or > 4) return null;
            }

            return new Frame(width, height, components);
        }
    }

    /// <summary>A Huffman table in the form of the JPEG standard's DECODE procedure (F.2.2.3): per code length, the smallest and largest code.</summary>
    private sealed class HuffmanTable
    {
        private readonly int[] _minCode = new int[17];
        private readonly int[] _maxCode = new int[18];
        private readonly int[] _valuePointer = new int[17];
        private readonly byte[] _values;

        // Codes of up to 9 bits looked up at once, as libjpeg does: (length << 8 | symbol), 0 for a longer code.
        private const int FastBits = 9;
        private readonly short[] _fast = new short[1 << FastBits];

        private HuffmanTable(ReadOnlySpan<byte> counts, byte[] values)
        {
            _values = values;
            int code = 0, k = 0;
            for (int length = 1; length <= 16; length++)
            {
                _valuePointer[length] = k;
                _minCode[length] = code;
                code += counts[length - 1];
                k += counts[length - 1];
                _maxCode[length] = counts[length - 1] > 0 ? code - 1 : -1;
                code <<= 1;
            }

            _maxCode[17] = int.MaxValue;
            for (int length = 1; length <= FastBits; length++)
                for (int shortCode = _minCode[length]; shortCode <= _maxCode[length]; shortCode++)
                {
                    byte symbol = _values[_valuePointer[length] + shortCode - _minCode[length]];
                    _fast.AsSpan(shortCode << (FastBits - length), 1 << (FastBits - length)).Fill((short)(length << 8 | symbol));
                }
        }

        public static bool ReadAll(ReadOnlySpan<byte> segment, HuffmanTable?[] tables)
        {
            while (segment.Length > 0)
            {
                if (segment.Length < 17) return false;
                int kind = segment[0] >> 4, slot = segment[0] & 15;
                if (kind > 1 || slot > 3) return false;
                var counts = segment.Slice(1, 16);
                int total = 0;
                foreach (byte count in counts) total += count;
                if (segment.Length < 17 + total) return false;
                tables[kind * 4 + slot] = new HuffmanTable(counts, segment.Slice(17, total).ToArray());
                segment = segment[(17 + total)..];
            }

            return true;
        }

        /// <summary>The symbol whose code starts the 16 bits <paramref name="peek"/>, and the code's length; -1 for a code no length holds.</summary>
        public int Decode(int peek, out int length)
        {
            int fast = _fast[peek >> (16 - FastBits)];
            if (fast != 0)
            {
                length = fast >> 8;
                return fast & 0xFF;
            }

            for (length = FastBits + 1; length <= 16; length++)
            {
                int code = peek >> (16 - length);
                if (code <= _maxCode[length]) return _values[_valuePointer[length] + code - _minCode[length]];
            }

            return -1;
        }
    }

    /// <summary>Reads a scan's entropy-coded bits, byte-unstuffed, into a 64-bit buffer; past the first marker it reads zeros, as libjpeg does, and counts them.</summary>
    private ref struct ScanReader(ReadOnlySpan<byte> jpeg, int start)
    {
        private readonly ReadOnlySpan<byte> _jpeg = jpeg;
        private readonly int _start = start;
        private ulong _buffer; // left-aligned
        private int _count;
        private int _zerosPastEnd;

        // Where each byte loaded into the buffer ends in the file (stuffed 0xFF 0x00 are two bytes), the last 16 of them.
        private readonly int[] _ends = new int[16];
        private int _loaded;

        public int Position { get; private set; } = start;

        /// <summary>Whether the reader stands at a marker (the scan's data has ended).</summary>
        public bool AtMarker { get; private set; }

        /// <summary>Whether more bits were used than the data holds.</summary>
        private readonly bool Overrun => _zerosPastEnd > _count;

        private int Peek16()
        {
            while (_count <= 56)
            {
                ulong next = 0;
                if (!AtMarker && Position < _jpeg.Length)
                {
                    byte value = _jpeg[Position];
                    if (value == 0xFF && (Position + 1 >= _jpeg.Length || _jpeg[Position + 1] != 0x00))
                    {
                        AtMarker = true;
                    }
                    else
                    {
                        next = value;
                        Position += value == 0xFF ? 2 : 1;
                        _ends[_loaded++ % _ends.Length] = Position;
                        _buffer |= next << (56 - _count);
                        _count += 8;
                        continue;
                    }
                }

                _zerosPastEnd += 8;
                _count += 8;
            }

            return (int)(_buffer >> 48);
        }

        private void Skip(int bits)
        {
            _buffer <<= bits;
            _count -= bits;
        }

        private int Symbol(HuffmanTable table)
        {
            int symbol = table.Decode(Peek16(), out int length);
            if (symbol >= 0) Skip(length);
            return symbol;
        }

        private void Receive(int bits)
        {
            Peek16();
            Skip(bits);
        }

        /// <summary>Drops the bits left in the current byte and rewinds to the first byte not used: the reader is then at a marker if the data was whole.</summary>
        private void Align()
        {
            int unread = Math.Max(0, _count - _zerosPastEnd) / 8;
            int lastUsed = _loaded - 1 - unread;
            Position = lastUsed < 0 ? _start : _ends[lastUsed % _ends.Length];
            _buffer = 0;
            _count = 0;
            _zerosPastEnd = 0;
            AtMarker = Position + 1 < _jpeg.Length && _jpeg[Position] == 0xFF && _jpeg[Position + 1] != 0x00;
        }

        public string? Read(Frame frame, ReadOnlySpan<byte> header, HuffmanTable?[] tables, int restartInterval)
        {
            if (header.Length < 1 || header.Length < 1 + 2 * header[0] + 3) return "a scan header that does not add up";
            int count = header[0];
            var blocks = new List<(HuffmanTable Dc, HuffmanTable Ac, int Blocks)>();
            Component? single = null;
            for (int i = 0; i < count; i++)
            {
                int id = header[1 + 2 * i], selectors = header[2 + 2 * i];
                var component = frame.Components.FirstOrDefault(c => c.Id == id);
                if (component is null || tables[selectors >> 4 & 3] is not { } dc || tables[4 + (selectors & 3)] is not { } ac)
                    return "a scan that names a missing component or Huffman table";
                single = component;
                blocks.Add((dc, ac, count == 1 ? 1 : component.H * component.V));
            }

            long mcus = count == 1
                ? Blocks(frame.Width, single!.H, frame.MaxH) * Blocks(frame.Height, single.V, frame.MaxV)
                : (long)Math.Ceiling(frame.Width / (8.0 * frame.MaxH)) * (long)Math.Ceiling(frame.Height / (8.0 * frame.MaxV));
            int expectedRestart = 0;
            for (long mcu = 0; mcu < mcus; mcu++)
            {
                if (restartInterval > 0 && mcu > 0 && mcu % restartInterval == 0)
                {
                    Align();
                    if (!AtMarker || _jpeg[Position + 1] != 0xD0 + expectedRestart) return "a restart marker missing or out of order";
                    expectedRestart = (expectedRestart + 1) % 8;
                    Position += 2;
                    AtMarker = false;
                }

                foreach (var (dc, ac, perMcu) in blocks)
                    for (int b = 0; b < perMcu; b++)
                        if (Block(dc, ac) is { } damage) return damage;
            }

            Align();
            return AtMarker ? null : "extraneous bytes after the last block of a scan";
        }

        private string? Block(HuffmanTable dc, HuffmanTable ac)
        {
            int size = Symbol(dc);
            if (size is < 0 or > 15) return Overrun ? Premature : "a Huffman code no table holds";
            Receive(size);
            for (int k = 1; k < 64;)
            {
                int symbol = Symbol(ac);
                if (symbol < 0) return Overrun ? Premature : "a Huffman code no table holds";
                int run = symbol >> 4, bits = symbol & 15;
                if (bits == 0)
                {
                    if (run != 15) break; // end of block
                    k += 16;
                    continue;
                }

                k += run;
                if (k > 63) return "a block with more than 64 coefficients";
                Receive(bits);
                k++;
            }

            return Overrun ? Premature : null;
        }

        private const string Premature = "a scan that ends before its last block";

        private static long Blocks(int size, int sampling, int maxSampling) => (long)Math.Ceiling(Math.Ceiling(size * sampling / (double)maxSampling) / 8);
    }
}
