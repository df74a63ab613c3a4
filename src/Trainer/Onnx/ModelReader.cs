using System.Runtime.InteropServices;
using Google.Protobuf;
using OnnxTrainer.Inference;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx.Protos;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Onnx;

/// <summary>
/// Reads ONNX files into the graph IR. Files are untrusted: every inconsistency is a
/// <see cref="ModelFormatException"/> naming the file and the tensor, node or value at fault.
/// Weights are not copied after parsing: tensors keep slices of the parsed buffers.
/// </summary>
public static class ModelReader
{
    /// <summary>Largest dimension accepted in a declared shape; anything larger is treated as corrupt.</summary>
    internal const long MaxDimension = int.MaxValue;

    /// <summary>Largest model file read: protobuf's own limit (2 GB); larger weights belong in external data.</summary>
    private const long MaxFileBytes = int.MaxValue;

    public static Model Load(string path)
    {
        ModelProto proto;
        try
        {
            using var stream = BoundedFile.OpenRead(path, MaxFileBytes, 1 << 20);
            proto = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelFormatException($"{path}: not a valid ONNX protobuf file ({e.Message})", e);
        }
        catch (FileNotFoundException)
        {
            throw new ModelFormatException($"{path}: file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException($"{path}: cannot be read: {e.Message}", e);
        }
        return FromProto(proto, Path.GetDirectoryName(Path.GetFullPath(path)), path);
    }

    /// <summary>
    /// Reads a model that takes one image (a backbone, a preprocessing graph, an exported classifier): <see cref="Load(string)"/>,
    /// and one graph input, at least one node.
    /// </summary>
    public static Model LoadImageModel(string path)
    {
        var model = Load(path);
        ModelChecks.RunForImageModel(model, path);
        return model;
    }

    /// <summary>Reads a model from memory; external data is not allowed since there is no folder to resolve it in.</summary>
    public static Model Load(byte[] bytes, string label = "model")
    {
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelFormatException($"{label}: not a valid ONNX protobuf file ({e.Message})", e);
        }
        return FromProto(proto, null, label);
    }

    internal static Model FromProto(ModelProto proto, string? directory, string label)
    {
        if (proto.Graph is null) throw new ModelFormatException($"{label}: the model has no graph");
        var model = new Model
        {
            IrVersion = proto.IrVersion,
            ProducerName = proto.ProducerName,
            ProducerVersion = proto.ProducerVersion,
            Domain = proto.Domain,
            ModelVersion = proto.ModelVersion,
            DocString = proto.DocString,
        };
        model.Opsets.Clear();
        foreach (var opset in proto.OpsetImport)
            model.Opsets[opset.Domain == "ai.onnx" ? "" : opset.Domain] = opset.Version;
        if (model.Opsets.Count == 0)
            throw new ModelFormatException($"{label}: the model declares no opset_import");
        foreach (var kv in proto.MetadataProps) model.Metadata.Add(new(kv.Key, kv.Value));
        model.Functions.AddRange(proto.Functions);
        model.Graph = new GraphReader(new ExternalDataResolver(directory, label), label).Read(proto.Graph);
        ModelChecks.Run(model, label);
        return model;
    }

    private sealed class GraphReader(ExternalDataResolver externalData, string label)
    {
        private readonly Graph _graph = new();

        public Graph Read(GraphProto proto)
        {
            _graph.Name = proto.Name;
            _graph.DocString = proto.DocString;
            if (proto.SparseInitializer.Count > 0)
                throw new ModelFormatException($"{label}: sparse initializer '{proto.SparseInitializer[0].Values?.Name}' is not supported");

            foreach (var init in proto.Initializer)
            {
                if (string.IsNullOrEmpty(init.Name)) throw new ModelFormatException($"{label}: an initializer has no name");
                if (_graph.Contains(init.Name)) throw new ModelFormatException($"{label}: initializer name '{init.Name}' is used twice");
                _graph.AddInitializer(init.Name, ReadTensor(init, $"initializer '{init.Name}'"));
            }
            foreach (var input in proto.Input)
            {
                // Before IR 4 initializers were also listed as inputs; the initializer wins.
                if (_graph.TryGetValue(input.Name, out var existing) && existing.IsInitializer) continue;
                if (_graph.Contains(input.Name)) throw new ModelFormatException($"{label}: graph input '{input.Name}' is listed twice");
                _graph.AddInput(input.Name, ReadType(input.Type, $"graph input '{input.Name}'") ?? new TensorType(DataType.Undefined, null));
            }

            var declared = new Dictionary<string, TensorType?>(StringComparer.Ordinal);
            foreach (var info in proto.ValueInfo) declared[info.Name] = ReadType(info.Type, $"value '{info.Name}'");
            foreach (var info in proto.Output) declared[info.Name] = ReadType(info.Type, $"graph output '{info.Name}'");

            foreach (var node in proto.Node) ReadNode(node);

            foreach (var output in proto.Output)
            {
                if (!_graph.TryGetValue(output.Name, out var value))
                    throw new ModelFormatException($"{label}: graph output '{output.Name}' is not produced by any node, input or initializer");
                _graph.Outputs.Add(value);
            }
            foreach (var value in _graph.Values)
            {
                if (value.Producer is null && !value.IsInitializer && !_graph.Inputs.Contains(value))
                {
                    var user = value.Users.FirstOrDefault();
                    throw new ModelFormatException($"{label}: node '{user?.Name}' ({user?.OpType}) reads '{value.Name}', which no node, input or initializer defines");
                }
                if (value.Type is null && declared.TryGetValue(value.Name, out var type)) value.Type = type;
            }
            try
            {
                _graph.SortTopologically();
            }
            catch (GraphException e)
            {
                throw new ModelFormatException($"{label}: {e.Message}", e);
            }
            return _graph;
        }

        private void ReadNode(NodeProto proto)
        {
            string where = $"node '{proto.Name}' ({proto.OpType})";
            if (string.IsNullOrEmpty(proto.OpType)) throw new ModelFormatException($"{label}: node '{proto.Name}' has no op_type");
            var inputs = proto.Input.Select(name => name.Length == 0 ? null : _graph.TryGetValue(name, out var v) ? v : _graph.CreateValue(name)).ToList();
            var outputs = new List<Value>();
            foreach (var name in proto.Output)
            {
                if (name.Length > 0 && outputs.Any(o => o.Name == name))
                    throw new ModelFormatException($"{label}: {where} lists output '{name}' twice");
                if (name.Length == 0)
                {
                    outputs.Add(_graph.CreateValue(_graph.FreshName($"{proto.Name}_unused")));
                    continue;
                }
                if (_graph.TryGetValue(name, out var existing))
                {
                    if (existing.Producer is not null || existing.IsInitializer || _graph.Inputs.Contains(existing))
                        throw new ModelFormatException($"{label}: {where} writes '{name}', which is already defined elsewhere");
                    outputs.Add(existing);
                }
                else outputs.Add(_graph.CreateValue(name));
            }
            var attributes = proto.Attribute.Select(a => ReadAttribute(a, where)).ToList();
            var repeated = attributes.GroupBy(a => a.Name).FirstOrDefault(g => g.Count() > 1);
            if (repeated is not null) throw new ModelFormatException($"{label}: {where} has attribute '{repeated.Key}' twice");
            string? name2 = string.IsNullOrEmpty(proto.Name) ? null : proto.Name;
            var node = _graph.AddNodeWithOutputs(proto.OpType, inputs, outputs, attributes, name2, proto.Domain == "ai.onnx" ? "" : proto.Domain);
            node.DocString = proto.DocString;
        }

        private Attribute ReadAttribute(AttributeProto a, string where)
        {
            string at = $"{where} attribute '{a.Name}'";
            return a.Type switch
            {
                AttributeProto.Types.AttributeType.Float => new Attribute(a.Name, AttributeKind.Float) { F = a.F },
                AttributeProto.Types.AttributeType.Int => new Attribute(a.Name, AttributeKind.Int) { I = a.I },
                AttributeProto.Types.AttributeType.String => new Attribute(a.Name, AttributeKind.String) { S = a.S.ToStringUtf8() },
                AttributeProto.Types.AttributeType.Tensor => new Attribute(a.Name, AttributeKind.Tensor) { T = ReadTensor(a.T ?? new TensorProto(), at) },
                AttributeProto.Types.AttributeType.Floats => new Attribute(a.Name, AttributeKind.Floats) { Floats = [.. a.Floats] },
                AttributeProto.Types.AttributeType.Ints => new Attribute(a.Name, AttributeKind.Ints) { Ints = [.. a.Ints] },
                AttributeProto.Types.AttributeType.Strings => new Attribute(a.Name, AttributeKind.Strings) { Strings = a.Strings.Select(s => s.ToStringUtf8()).ToList() },
                AttributeProto.Types.AttributeType.Tensors => new Attribute(a.Name, AttributeKind.Tensors) { Tensors = a.Tensors.Select(t => ReadTensor(t, at)).ToList() },
                AttributeProto.Types.AttributeType.Graph => new Attribute(a.Name, AttributeKind.Graph) { Opaque = a },
                AttributeProto.Types.AttributeType.Graphs => new Attribute(a.Name, AttributeKind.Graphs) { Opaque = a },
                AttributeProto.Types.AttributeType.Undefined => throw new ModelFormatException($"{label}: {at} has no type"),
                _ => new Attribute(a.Name, AttributeKind.Other) { Opaque = a },
            };
        }

        private TensorType? ReadType(TypeProto? type, string what)
        {
            if (type?.TensorType is not { } tensor) return null;
            if (!Enum.IsDefined((DataType)tensor.ElemType))
                throw new ModelFormatException($"{label}: {what} has unknown element type {tensor.ElemType}");
            if (tensor.Shape is null) return new TensorType((DataType)tensor.ElemType, null);
            var dims = new Dim[tensor.Shape.Dim.Count];
            for (int i = 0; i < dims.Length; i++)
            {
                var d = tensor.Shape.Dim[i];
                dims[i] = d.ValueCase switch
                {
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue when d.DimValue < 0 =>
                        throw new ModelFormatException($"{label}: {what} has negative dimension {d.DimValue} at axis {i}"),
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue when d.DimValue > MaxDimension =>
                        throw new ModelFormatException($"{label}: {what} has absurd dimension {d.DimValue} at axis {i}"),
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => Dim.Known(d.DimValue),
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => Dim.Named(d.DimParam),
                    _ => Dim.Unknown,
                };
            }
            return new TensorType((DataType)tensor.ElemType, dims);
        }

        private Tensor ReadTensor(TensorProto t, string what)
        {
            string where = $"{label}: {what}";
            var type = (DataType)t.DataType;
            if (!Enum.IsDefined(type) || type == DataType.Undefined)
                throw new ModelFormatException($"{where} has unsupported element type {t.DataType}");
            if (t.Segment is not null) throw new ModelFormatException($"{where} is a segmented tensor, which is not supported");
            long[] dims = [.. t.Dims];
            long count = 1;
            foreach (var d in dims)
            {
                if (d < 0) throw new ModelFormatException($"{where} has negative dimension {d}");
                if (d > MaxDimension) throw new ModelFormatException($"{where} has absurd dimension {d}");
                try { count = checked(count * d); }
                catch (OverflowException) { throw new ModelFormatException($"{where}: its dimensions [{string.Join(", ", dims)}] overflow"); }
            }
            if (type == DataType.String)
            {
                if (t.StringData.Count != count)
                    throw new ModelFormatException($"{where} has {t.StringData.Count} strings for shape [{string.Join(", ", dims)}]");
                return new Tensor(dims, t.StringData.Select(s => s.ToByteArray()).ToList());
            }
            int size = type.ElementSize();
            if (size == 0) throw new ModelFormatException($"{where} has element type {type} which is not supported");
            long expected;
            try { expected = checked(count * size); }
            catch (OverflowException) { throw new ModelFormatException($"{where}: its dimensions [{string.Join(", ", dims)}] overflow"); }

            ReadOnlyMemory<byte> data;
            if (t.DataLocation == TensorProto.Types.DataLocation.External)
            {
                var entries = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var entry in t.ExternalData)
                    if (!entries.TryAdd(entry.Key, entry.Value))
                        throw new ModelFormatException($"{where}: external data key '{entry.Key}' is given twice");
                string location = entries.GetValueOrDefault("location", "");
                long offset = ParseLong(entries, "offset", where) ?? 0;
                long? length = ParseLong(entries, "length", where);
                data = externalData.Read(what, location, offset, length, expected);
            }
            else if (!t.RawData.IsEmpty || expected == 0 && TypedCount(t) == 0)
            {
                if (t.RawData.Length != expected)
                    throw new ModelFormatException($"{where} has {t.RawData.Length} bytes of data but its shape [{string.Join(", ", dims)}] of {type.OnnxName()} needs {expected}");
                data = t.RawData.Memory;
            }
            else data = ReadTypedData(t, type, count, where);
            return new Tensor(type, dims, data);
        }

        private static int TypedCount(TensorProto t) =>
            t.FloatData.Count + t.Int32Data.Count + t.Int64Data.Count + t.DoubleData.Count + t.Uint64Data.Count;

        private static long? ParseLong(Dictionary<string, string> entries, string key, string where)
        {
            if (!entries.TryGetValue(key, out var text)) return null;
            return long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v)
                ? v : throw new ModelFormatException($"{where}: external data {key} '{text}' is not a number");
        }

        private static byte[] ReadTypedData(TensorProto t, DataType type, long count, string where)
        {
            // Complex numbers take two stored values each; compare stored counts so an odd count cannot slip through.
            long stored = type switch
            {
                DataType.Float or DataType.Complex64 => t.FloatData.Count,
                DataType.Double or DataType.Complex128 => t.DoubleData.Count,
                DataType.Int64 => t.Int64Data.Count,
                DataType.UInt32 or DataType.UInt64 => t.Uint64Data.Count,
                _ => t.Int32Data.Count,
            };
            long perElement = type is DataType.Complex64 or DataType.Complex128 ? 2 : 1;
            long actual = stored / perElement;
            if (stored != count * perElement)
                throw new ModelFormatException($"{where} has {actual} values but its shape [{string.Join(", ", t.Dims)}] needs {count}");
            return type switch
            {
                DataType.Float or DataType.Complex64 => MemoryMarshal.AsBytes(t.FloatData.ToArray().AsSpan()).ToArray(),
                DataType.Double or DataType.Complex128 => MemoryMarshal.AsBytes(t.DoubleData.ToArray().AsSpan()).ToArray(),
                DataType.Int64 => MemoryMarshal.AsBytes(t.Int64Data.ToArray().AsSpan()).ToArray(),
                DataType.UInt64 => MemoryMarshal.AsBytes(t.Uint64Data.ToArray().AsSpan()).ToArray(),
                DataType.UInt32 => MemoryMarshal.AsBytes(t.Uint64Data.Select(v => (uint)v).ToArray().AsSpan()).ToArray(),
                DataType.Int32 => MemoryMarshal.AsBytes(t.Int32Data.ToArray().AsSpan()).ToArray(),
                DataType.Int16 => MemoryMarshal.AsBytes(t.Int32Data.Select(v => (short)v).ToArray().AsSpan()).ToArray(),
                DataType.UInt16 or DataType.Float16 or DataType.BFloat16 => MemoryMarshal.AsBytes(t.Int32Data.Select(v => (ushort)v).ToArray().AsSpan()).ToArray(),
                _ => t.Int32Data.Select(v => (byte)v).ToArray(),
            };
        }
    }
}
