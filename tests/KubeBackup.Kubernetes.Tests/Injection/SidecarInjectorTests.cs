using System.Text;
using System.Text.Json.Nodes;
using KubeBackup.Kubernetes.Injection;
using Microsoft.AspNetCore.JsonPatch;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace KubeBackup.Kubernetes.Tests.Injection;

/// <summary>Golden AdmissionReviews for the three workload kinds; the patches are applied with an independent RFC 6902
/// implementation (Microsoft.AspNetCore.JsonPatch over Newtonsoft), not the fake server's.</summary>
public sealed class SidecarInjectorTests
{
    private static SidecarInjector Injector(string image = "ghcr.io/kubebackup/sidecar:1.0")
    {
        var options = new SidecarOptions { Image = image };
        options.Command.Add("kubebackup");
        options.Command.Add("sidecar");
        options.Env.Add(new SecretEnv("RESTIC_PASSWORD", "repo-secret", "password"));
        options.EnvFromSecrets.Add("s3-credentials");
        options.Requests["cpu"] = "50m";
        options.Requests["memory"] = "64Mi";
        options.Limits["memory"] = "256Mi";
        return new SidecarInjector(options);
    }

    private static string Golden(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "injection", name));

    private static JObject Apply(JObject target, AdmissionResponse response)
    {
        Assert.Equal("JSONPatch", response.PatchType);
        var patchJson = Encoding.UTF8.GetString(Convert.FromBase64String(response.Patch!));
        var patch = JsonConvert.DeserializeObject<JsonPatchDocument>(patchJson)!;
        var copy = (JObject)target.DeepClone();
        patch.ApplyTo(copy);
        return copy;
    }

    private static AdmissionReview ReviewOf(JObject obj, string kind, string uid = "u-2") => AdmissionReview.Parse(new JObject
    {
        ["apiVersion"] = "admission.k8s.io/v1",
        ["kind"] = "AdmissionReview",
        ["request"] = new JObject
        {
            ["uid"] = uid, ["operation"] = "UPDATE", ["kind"] = new JObject { ["group"] = "apps", ["version"] = "v1", ["kind"] = kind },
            ["object"] = obj,
        },
    }.ToString());

    [Theory]
    [InlineData("deployment", "Deployment")]
    [InlineData("statefulset", "StatefulSet")]
    [InlineData("daemonset", "DaemonSet")]
    public void Golden_review_gives_the_expected_object_and_a_second_review_gives_no_patch(string file, string kind)
    {
        var injector = Injector();
        var input = Golden(file + ".review.json");
        var review = AdmissionReview.Parse(input);
        var answer = injector.Review(review).Response!;
        Assert.True(answer.Allowed);
        Assert.Equal(review.Request!.Uid, answer.Uid);

        var original = (JObject)JObject.Parse(input)["request"]!["object"]!;
        var patched = Apply(original, answer);
        var hash = (string?)patched["spec"]!["template"]!["metadata"]!["annotations"]![SidecarOptions.HashAnnotation];
        Assert.Matches("^[0-9a-f]{16}$", hash);
        var comparable = (JObject)patched.DeepClone();
        comparable["spec"]!["template"]!["metadata"]!["annotations"]![SidecarOptions.HashAnnotation] = "HASH";
        var expected = JObject.Parse(Golden(file + ".expected.json"));
        Assert.True(JToken.DeepEquals(expected, comparable), $"patched object differs:\n{comparable}");

        // Only Secret references, never literal values, in the sidecar's environment.
        var sidecar = (JObject)((JArray)patched["spec"]!["template"]!["spec"]!["containers"]!).Last!;
        Assert.All((JArray)sidecar["env"]!, e => Assert.Null(e["value"]));

        var again = injector.Review(ReviewOf(patched, kind)).Response!;
        Assert.True(again.Allowed);
        Assert.Null(again.Patch);
    }

    [Fact]
    public void Objects_that_did_not_opt_in_are_untouched()
    {
        var review = JObject.Parse(Golden("deployment.review.json"));
        ((JObject)review["request"]!["object"]!["metadata"]!).Remove("annotations");
        var answer = Injector().Review(AdmissionReview.Parse(review.ToString())).Response!;
        Assert.True(answer.Allowed);
        Assert.Null(answer.Patch);

        var pod = JObject.Parse(Golden("deployment.review.json"));
        pod["request"]!["kind"]!["kind"] = "Pod";
        Assert.Null(Injector().Review(AdmissionReview.Parse(pod.ToString())).Response!.Patch);
    }

    [Fact]
    public void Opting_out_removes_exactly_what_was_injected()
    {
        var injector = Injector();
        var input = JObject.Parse(Golden("deployment.review.json"));
        var original = (JObject)input["request"]!["object"]!;
        var injected = Apply(original, injector.Review(AdmissionReview.Parse(input.ToString())).Response!);
        injected["metadata"]!["annotations"]![SidecarOptions.InjectAnnotation] = "false";
        var removed = Apply(injected, injector.Review(ReviewOf(injected, "Deployment")).Response!);
        var expected = (JObject)original.DeepClone();
        expected["metadata"]!["annotations"]![SidecarOptions.InjectAnnotation] = "false";
        Assert.True(JToken.DeepEquals(expected, removed), removed.ToString());
        Assert.Null(injector.Review(ReviewOf(removed, "Deployment")).Response!.Patch);
    }

    [Fact]
    public void A_new_sidecar_version_replaces_the_old_one_once()
    {
        var input = JObject.Parse(Golden("statefulset.review.json"));
        var v1 = Apply((JObject)input["request"]!["object"]!, Injector().Review(AdmissionReview.Parse(input.ToString())).Response!);
        var upgrade = Injector("ghcr.io/kubebackup/sidecar:2.0");
        var answer = upgrade.Review(ReviewOf(v1, "StatefulSet")).Response!;
        var ops = answer.DecodePatch()!;
        Assert.Contains(ops, o => (string?)o!["op"] == "replace" && (string?)o["path"] == "/spec/template/spec/containers/1");
        var v2 = Apply(v1, answer);
        Assert.Equal(2, ((JArray)v2["spec"]!["template"]!["spec"]!["containers"]!).Count);
        Assert.Equal("ghcr.io/kubebackup/sidecar:2.0", (string?)v2["spec"]!["template"]!["spec"]!["containers"]![1]!["image"]);
        Assert.Null(upgrade.Review(ReviewOf(v2, "StatefulSet")).Response!.Patch);
    }

    [Fact]
    public void The_review_answer_serialises_as_the_api_server_expects()
    {
        var answer = Injector().Review(AdmissionReview.Parse(Golden("daemonset.review.json")));
        var json = JsonNode.Parse(answer.ToJson())!;
        Assert.Equal("admission.k8s.io/v1", (string?)json["apiVersion"]);
        Assert.Equal("AdmissionReview", (string?)json["kind"]);
        Assert.Null(json["request"]);
        Assert.Equal("0c3a6f5e-1d2b-4c8e-9f00-000000000003", (string?)json["response"]!["uid"]);
        Assert.True((bool)json["response"]!["allowed"]!);
        Assert.Equal("JSONPatch", (string?)json["response"]!["patchType"]);
    }
}
