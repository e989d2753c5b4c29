using KubeBackup.Tests.Support;

namespace KubeBackup.Tests.Sessions;

/// <summary>The tests that share one throwaway PostgreSQL server (and so run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
