using KubeBackup.Configuration;
using KubeBackup.Hooks;
using KubeBackup.Scheduling;
using KubeBackup.Sessions;

namespace KubeBackup.Tests.Configuration;

public sealed class ConfigurationLoaderTests
{
    private const string Yaml = """
        name: shop
        repository:
          location: /srv/repo
          password: { env: SHOP_PASSWORD }
          environment:
            AWS_ACCESS_KEY_ID: { file: /run/secrets/key }
        schedule: "@daily-random"
        timeZone: Europe/Berlin
        concurrencyPolicy: Queue
        timeout: 1h30m
        retry: { maxAttempts: 3, delay: 45s }
        completeness: { unreadableFiles: Fail, emptyStream: TagPartial }
        retention: { keepLast: 7, prune: true }
        variables: { PGPORT: 5432 }
        hooks:
          preBackup:
            - name: mode
              command: [psql, -p, "${PGPORT}"]
              holdOpen: { readyPattern: "^ready$", release: Terminate }
              timeout: 10s
          postBackup:
            - name: notify
              http: { method: POST, url: "http://127.0.0.1:9/x", body: "${TARGET_NAME}" }
              onError: Continue
              when: OnFailure
        targets:
          - name: db
            task: dump
            variables: { DB: shop }
        tasks:
          dump:
            steps:
              - function: stream-backup
                params: { command: [pg_dump, "${DB}"], fileName: "${TARGET_NAME}.sql" }
              - function: update-status
        """;

    [Fact]
    public void Yaml_and_the_same_json_load_into_the_same_model()
    {
        var c = ConfigurationLoader.LoadYaml(Yaml);
        Assert.Equal(("shop", "/srv/repo", "environment variable SHOP_PASSWORD"), (c.Name, c.Repository.Location, c.Repository.Password.ToString()));
        Assert.Equal("/run/secrets/key", c.Repository.Environment["AWS_ACCESS_KEY_ID"].File);
        Assert.Equal((ConcurrencyPolicy.Queue, TimeSpan.FromMinutes(90)), (c.ConcurrencyPolicy, c.Timeout));
        Assert.Equal((3, TimeSpan.FromSeconds(45)), (c.Retry.MaxAttempts, c.Retry.Delay));
        Assert.Equal((CompletenessAction.Fail, CompletenessAction.TagPartial, CompletenessAction.Fail), (c.Completeness.UnreadableFiles, c.Completeness.EmptyStream, c.Completeness.ShortStream));
        Assert.Equal((7, true), (c.Retention!.KeepLast, c.Retention.Prune));
        Assert.Equal("5432", c.Variables["PGPORT"]);
        var hold = Assert.Single(c.Hooks.PreBackup);
        Assert.Equal((HookKind.HoldOpen, HoldReleaseMode.Terminate, TimeSpan.FromSeconds(10)), (hold.Kind, hold.HoldOpen!.Release, hold.Timeout));
        var notify = Assert.Single(c.Hooks.PostBackup);
        Assert.Equal((HookKind.Http, HookErrorMode.Continue, KubeBackup.Tasks.ExecutionPolicy.OnFailure), (notify.Kind, notify.OnError, notify.When));
        Assert.Equal(["pg_dump", "${DB}"], c.Tasks["dump"].Steps[0].Params["command"]!.AsArray().Select(n => n!.GetValue<string>()));

        var again = ConfigurationLoader.LoadJson(ConfigurationLoader.ToJson(c));
        Assert.Equal(ConfigurationLoader.ToJson(c), ConfigurationLoader.ToJson(again));
    }

    [Theory]
    [InlineData("retention: { keepLatest: 7 }", "keepLatest")]
    [InlineData("retention: { keepLast: seven }", "retention.keepLast")]
    [InlineData("completeness: { shortStream: Warn }", "shortStream cannot be Warn")]
    [InlineData("targets: [{ name: t, task: t2 }]", "task 't2' is not defined")]
    [InlineData("schedule: \"61 * * * *\"", "schedule")]
    [InlineData("timeout: soon", "duration")]
    public void Mistakes_are_refused_with_a_message_that_names_them(string extra, string expected)
    {
        string yaml = """
            name: x
            repository: { location: /r, password: { env: P } }
            targets: [{ name: t, paths: [/data] }]
            """;
        // A later key replaces nothing: duplicate keys are themselves an error, so extra targets go to a fresh document.
        yaml = extra.Contains("targets", StringComparison.Ordinal) ? yaml.Replace("targets: [{ name: t, paths: [/data] }]", "", StringComparison.Ordinal) + extra : yaml + "\n" + extra;
        var ex = Assert.ThrowsAny<ConfigurationException>(() => ConfigurationLoader.LoadYaml(yaml));
        Assert.Contains(expected, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Unknown_variable_in_a_task_parameter_is_an_error_at_load_time()
    {
        var ex = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.LoadYaml(Yaml.Replace("\"${DB}\"", "\"${DATABASE}\"", StringComparison.Ordinal)));
        Assert.Contains("unknown variable ${DATABASE}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Secret_references_never_show_values()
    {
        var secret = SecretReference.FromValue("hunter2-very-secret");
        Assert.DoesNotContain("hunter2", secret.ToString(), StringComparison.Ordinal);
        var c = new BackupConfiguration { Name = "n", Repository = new RepositoryReference { Location = "/r", Password = secret } };
        Assert.DoesNotContain("hunter2", ConfigurationLoader.ToJson(c), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", c.Repository.ToString(), StringComparison.Ordinal);
    }
}
