using Google.Protobuf;
using OnnxTrainer.Ir;
using OnnxTrainer.Onnx.Protos;
using Attribute = OnnxTrainer.Ir.Attribute;

namespace OnnxTrainer.Onnx;

/// <summary>Writes the graph IR as an ONNX file. Nodes are emitted in topological order; tensor bytes are wrapped, not copied.</summary>
public static class ModelWriter
{
    public static void Save(Model model, string path)
    {
        var proto = ToProto(model);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        // Write beside the target, then rename: a crash never leaves a half-written model.
        string temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            proto.WriteTo(stream);
        File.Move(temp, path, overwrite: true);
    }

    public static byte[] ToBytes(Model model) => ToProto(model).ToByteArray();

    public static ModelProto ToProto(Model model)
    {
        var proto = new ModelProto
        {
            IrVersion = model.IrVersion,
            ProducerName = model.ProducerName,
            ProducerVersion = model.ProducerVersion,
            Domain = model.Domain,
            ModelVersion = model.ModelVersion,
            DocString = model.DocString,
            Graph = ToProto(model.Graph, model.IrVersion),
        };
        foreach (var (domain, version) in model.Opsets)
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        foreach (var kv in model.Metadata)
            proto.MetadataProps.Add(new StringStringEntryProto { Key = kv.Key, Value = kv.Value });
        proto.Functions.AddRange(model.Functions);
        return proto;
    }

    public static GraphProto ToProto(Graph graph, long irVersion = 8)
    {
        var proto = new GraphProto { Name = graph.Name, DocString = graph.DocString };
        var inputs = graph.Inputs.ToHashSet();
        var outputs = graph.Outputs.ToHashSet();
        foreach (var value in graph.Initializers)
            proto.Initializer.Add(ToProto(value.Initializer!, value.Name));
        foreach (var input in graph.Inputs) proto.Input.Add(ValueInfo(input));
        // Before IR 4 every initializer had to be declared as an input too.
        if (irVersion < 4)
            foreach (var value in graph.Initializers) proto.Input.Add(ValueInfo(value));
        foreach (var output in graph.Outputs) proto.Output.Add(ValueInfo(output));
        foreach (var node in graph.TopologicalOrder())
        {
            proto.Node.Add(ToProto(node));
            foreach (var output in node.Outputs)
                if (output.Type is not null && !outputs.Contains(output)) proto.ValueInfo.Add(ValueInfo(output));
        }
        return proto;
    }

    private static NodeProto ToProto(Node node)
    {
        var proto = new NodeProto { Name = node.Name, OpType = node.OpType, Domain = node.Domain, DocString = node.DocString };
        foreach (var input in node.Inputs) proto.Input.Add(input?.Name ?? "");
        foreach (var output in node.Outputs) proto.Output.Add(output.Name);
        foreach (var attribute in node.Attributes.Values) proto.Attribute.Add(ToProto(attribute));
        return proto;
    }

    private static AttributeProto ToProto(Attribute a)
    {
        if (a.Opaque is not null) return a.Opaque;
        var proto = new AttributeProto { Name = a.Name };
        switch (a.Kind)
        {
            case AttributeKind.Float: proto.Type = AttributeProto.Types.AttributeType.Float; proto.F = a.F; break;
            case AttributeKind.Int: proto.Type = AttributeProto.Types.AttributeType.Int; proto.I = a.I; break;
            case AttributeKind.String: proto.Type = AttributeProto.Types.AttributeType.String; proto.S = ByteString.CopyFromUtf8(a.S); break;
            case AttributeKind.Tensor: proto.Type = AttributeProto.Types.AttributeType.Tensor; proto.T = ToProto(a.T!, ""); break;
            case AttributeKind.Floats: proto.Type = AttributeProto.Types.AttributeType.Floats; proto.Floats.AddRange(a.Floats); break;
            case AttributeKind.Ints: proto.Type = AttributeProto.Types.AttributeType.Ints; proto.Ints.AddRange(a.Ints); break;
            case AttributeKind.Strings: proto.Type = AttributeProto.Types.AttributeType.Strings; proto.Strings.AddRange(a.Strings.Select(ByteString.CopyFromUtf8)); break;
            case AttributeKind.Tensors: proto.Type = AttributeProto.Types.AttributeType.Tensors; proto.Tensors.AddRange(a.Tensors.Select(t => ToProto(t, ""))); break;
            default: throw new InvalidOperationException($"attribute '{a.Name}' of kind {a.Kind} has no protobuf form");
        }
        return proto;
    }

    public static TensorProto ToProto(Tensor tensor, string name)
    {
        var proto = new TensorProto { Name = name, DataType = (int)tensor.ElementType };
        proto.Dims.AddRange(tensor.Dims);
        if (tensor.Strings is not null) proto.StringData.AddRange(tensor.Strings.Select(ByteString.CopyFrom));
        else proto.RawData = UnsafeByteOperations.UnsafeWrap(tensor.Data);
        return proto;
    }

    private static ValueInfoProto ValueInfo(Value value)
    {
        var info = new ValueInfoProto { Name = value.Name };
        if (value.Type is { } type)
        {
            var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type.ElementType };
            if (type.Shape is not null)
            {
                tensorType.Shape = new TensorShapeProto();
                foreach (var dim in type.Shape)
                {
                    var d = new TensorShapeProto.Types.Dimension();
                    if (dim.Value is long v) d.DimValue = v;
                    else if (dim.Symbol is not null) d.DimParam = dim.Symbol;
                    tensorType.Shape.Dim.Add(d);
                }
            }
            info.Type = new TypeProto { TensorType = tensorType };
        }
        return info;
    }
}
