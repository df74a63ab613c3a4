namespace OnnxTrainer.Ir.Shapes;

/// <summary>How one operator (or family) maps input types to output types.</summary>
internal interface IShapeRule
{
    /// <summary>One type per node output; null where nothing can be said.</summary>
    TensorType?[] Infer(ShapeContext c);

    /// <summary>
    /// The value of output 0 when it is a small integer tensor computable from what is known now
    /// (possibly with symbolic elements, e.g. the batch size read by Shape). Most rules compute nothing.
    /// </summary>
    SymbolicTensor? Evaluate(ShapeContext c) => null;
}
