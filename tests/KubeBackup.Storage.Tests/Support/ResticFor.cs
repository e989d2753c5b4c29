using KubeBackup.Storage.Tests.Fixtures;
using KubeBackup.Testing;

namespace KubeBackup.Storage.Tests.Support;

/// <summary>The real restic pointed at a repository on one of the test servers.</summary>
public static class ResticFor
{
    public static ResticCli Rest(RestServer server, string prefix) =>
        new($"rest:http://{RestServer.User}:{RestServer.Password}@127.0.0.1:{server.Port}/{prefix}/", Engine.Password);

    /// <summary>restic reaches s3rver over https (its aws-chunked uploads are stored verbatim over plain http).</summary>
    public static ResticCli S3(S3Server server, int httpsPort, string prefix)
    {
        var restic = new ResticCli($"s3:https://127.0.0.1:{httpsPort}/{S3Server.Bucket}/{prefix}", Engine.Password);
        restic.Environment["AWS_ACCESS_KEY_ID"] = S3Server.AccessKey;
        restic.Environment["AWS_SECRET_ACCESS_KEY"] = S3Server.SecretKey;
        // restic 0.14 takes the CA only as a flag (RESTIC_CACERT came later).
        restic.GlobalArguments.AddRange(["--cacert", server.CertificateFile!]);
        return restic;
    }
}
