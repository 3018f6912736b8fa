using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Parley.Web.Tests;

/// <summary>The server serves Parley Web at / beside its API: precompressed, cached, under a content security policy.</summary>
public sealed partial class ServingTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Root_serves_the_app_page_precompressed_uncached_with_the_content_security_policy()
    {
        using var http = CompressingClient();
        using var response = await http.GetAsync(app.Server.BaseUri);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // gzip from the build output (as the tests run it), brotli from a published server (and `dotnet run -c Release`).
        Assert.Contains(Assert.Single(response.Content.Headers.ContentEncoding), Compressed);
        Assert.True(response.Headers.CacheControl?.NoCache, "index.html must be revalidated, so a new build is picked up");
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self' 'wasm-unsafe-eval'", csp, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", csp, StringComparison.Ordinal);
        var scripts = csp.Split(';').Select(d => d.Trim()).Single(d => d.StartsWith("script-src ", StringComparison.Ordinal));
        Assert.DoesNotContain("'unsafe-inline'", scripts, StringComparison.Ordinal);
        Assert.DoesNotContain("'unsafe-eval'", scripts, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fingerprinted_framework_files_are_precompressed_and_cached_forever()
    {
        using var plain = new HttpClient();
        var loader = await plain.GetStringAsync(new Uri(app.Server.BaseUri, "_framework/dotnet.js"));
        var script = RuntimeWasm().Match(loader);
        Assert.True(script.Success, "the runtime's loader names the fingerprinted runtime");
        using var http = CompressingClient();
        using var response = await http.GetAsync(new Uri(app.Server.BaseUri, "_framework/" + script.Value));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // gzip from the build output (as the tests run it), brotli from a published server (and `dotnet run -c Release`).
        Assert.Contains(Assert.Single(response.Content.Headers.ContentEncoding), Compressed);
        Assert.True(response.Headers.CacheControl?.MaxAge >= TimeSpan.FromDays(365));
        Assert.Contains("immutable", response.Headers.CacheControl!.Extensions.Select(e => e.Name));
    }

    [Fact]
    public async Task The_browser_app_does_not_download_the_sqlite_store()
    {
        // The runtime's loader carries the boot manifest: every assembly the app downloads is named in it.
        using var plain = new HttpClient();
        var loader = await plain.GetStringAsync(new Uri(app.Server.BaseUri, "_framework/dotnet.js"));
        Assert.Contains("Parley.Client", loader, StringComparison.Ordinal);
        Assert.Contains("Parley.Client.Browser", loader, StringComparison.Ordinal);
        // The SQLite store lives in Parley.Client.Sqlite (the CLI's); the browser keeps its device in IndexedDB.
        // (System.Data.Common, which only SQLite needs, is still listed by an untrimmed build output, as the
        // tests run it, with the rest of the framework; a published app drops it with SQLite.)
        foreach (var sqlite in (string[])["Parley.Client.Sqlite", "Microsoft.Data.Sqlite", "SQLitePCLRaw", "e_sqlite3"])
        {
            Assert.DoesNotContain(sqlite, loader, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Api_keeps_its_paths_beside_the_app()
    {
        using var http = new HttpClient();
        using var health = await http.GetAsync(new Uri(app.Server.BaseUri, "/v1/health"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("application/json", health.Content.Headers.ContentType?.MediaType);
        // A registration with a bad body is refused by the API, not answered with the app's page.
        using var register = await http.PostAsync(new Uri(app.Server.BaseUri, "/v1/accounts"), new StringContent("{}", MediaTypeHeaderValue.Parse("application/json")));
        Assert.Equal(HttpStatusCode.BadRequest, register.StatusCode);
    }

    private static readonly string[] Compressed = ["br", "gzip"];

    private static HttpClient CompressingClient()
    {
        // No automatic decompression: the test reads the encoding the server chose.
        var http = new HttpClient(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None });
        http.DefaultRequestHeaders.AcceptEncoding.ParseAdd("br, gzip");
        return http;
    }

    [GeneratedRegex(@"dotnet\.native\.[a-z0-9]+\.wasm")]
    private static partial Regex RuntimeWasm();
}
