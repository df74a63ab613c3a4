namespace OnnxTrainer.Ir;

/// <summary>A graph that is structurally invalid or that a pass cannot handle; the message names the node or value.</summary>
public class GraphException(string message) : Exception(message);
