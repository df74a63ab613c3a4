using Xunit;
namespace OnnxTrainer.Tests.Packaging;

/// <summary>The packaging tests pack projects of the repository: one at a time, beside (not against) the other tests.</summary>
[CollectionDefinition(nameof(PackagingCollection))]
public sealed class PackagingCollection;
