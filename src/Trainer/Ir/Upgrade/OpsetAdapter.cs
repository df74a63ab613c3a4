namespace OnnxTrainer.Ir.Upgrade;

/// <summary>Rewrites one node from its operator's form before <see cref="AdapterContext.Version"/> to the form at that version.</summary>
public delegate void OpsetAdapter(AdapterContext c);
