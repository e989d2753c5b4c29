// The console host runner, restic's runner and the process result are shared with the storage tests
// (KubeBackup.Testing); aliases, not a namespace import, because both projects also have a TempDirectory of their own.
global using CliRunner = KubeBackup.Testing.CliRunner;
global using ProcessResult = KubeBackup.Testing.ProcessResult;
global using ResticCli = KubeBackup.Testing.ResticCli;
