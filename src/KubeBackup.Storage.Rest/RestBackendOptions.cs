namespace KubeBackup.Storage.Rest;

/// <summary>Where a restic REST server (restic's rest-server, <c>rclone serve restic</c>) keeps a repository.</summary>
public sealed class RestBackendOptions : RemoteBackendOptions
{
    /// <summary>The repository URL, for example <c>https://host:8000/repo/</c>. A <c>user:password@</c> part is moved
    /// into <see cref="Username"/> and <see cref="Password"/> and never used in messages.</summary>
    public Uri? Url { get; set; }

    /// <summary>The HTTP basic-auth user (<c>RESTIC_REST_USERNAME</c>).</summary>
    public string? Username { get; set; }

    /// <summary>The HTTP basic-auth password (<c>RESTIC_REST_PASSWORD</c>). Never logged or shown.</summary>
    public string? Password { get; set; }

    /// <inheritdoc />
    protected override void AddValidationErrors(ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Url is null || !Url.IsAbsoluteUri || Url.Scheme is not ("http" or "https"))
        {
            errors.Add("Url must be an absolute http or https URL.");
        }

        if (Password is { Length: > 0 } && string.IsNullOrEmpty(Username) && string.IsNullOrEmpty(Url?.UserInfo))
        {
            errors.Add("Password is given without Username.");
        }
    }

    /// <summary>The URL without credentials, ending in a slash.</summary>
    internal Uri SafeUrl
    {
        get
        {
            var builder = new UriBuilder(Url!) { UserName = string.Empty, Password = string.Empty };
            if (!builder.Path.EndsWith('/'))
            {
                builder.Path += "/";
            }

            return builder.Uri;
        }
    }

    /// <summary>Describes the location without credentials.</summary>
    public override string ToString() =>
        $"rest:{(Url is null ? "(no URL)" : SafeUrl.ToString())} ({(string.IsNullOrEmpty(Username) && string.IsNullOrEmpty(Url?.UserInfo) ? "no authentication" : "basic auth (hidden)")})";
}
