using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Parley.Server.WebApp;

/// <summary>
/// Serves Parley Web (src/Parley.Web, a Blazor WebAssembly app) at <c>/</c> from the same origin
/// as the API and the WebSocket, so the browser needs no CORS. Files come precompressed (brotli,
/// gzip) with fingerprinted, immutable cache headers; <c>index.html</c> is <c>no-cache</c>. Every
/// response carries <see cref="ContentSecurityPolicy"/>.
/// </summary>
public static class WebAppEndpoints
{
    // Named after this assembly, not the host's entry assembly, which differs when tests embed the server.
    private const string ManifestPrefix = "Parley.Server.staticwebassets.";

    /// <summary>
    /// The content security policy of every response: scripts only from this origin, plus
    /// 'wasm-unsafe-eval', without which the browser refuses to compile the .NET runtime's
    /// WebAssembly; no inline script; stylesheets only from this origin, and style attributes
    /// (Blazor's Virtualize sizes its spacers with them: attributes cannot carry selectors, so
    /// they cannot read the page); connections only back to this origin (its http and ws
    /// schemes); no framing, no plugins.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data: blob:; " +
        "connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// Finds the app's files: through the build's manifest when the server runs from its build
    /// output (the README's <c>dotnet run -c Release</c>, in any environment, not only Development);
    /// under wwwroot when published. Hosts without the app (tests that embed the server) serve none.
    /// </summary>
    public static void UseWebAppFiles(this IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var runtimeManifest = Path.Combine(AppContext.BaseDirectory, ManifestPrefix + "runtime.json");
        if (File.Exists(runtimeManifest))
        {
            builder.UseSetting(WebHostDefaults.StaticWebAssetsKey, runtimeManifest);
            builder.UseStaticWebAssets();
            // Serve the build as a release: the precompressed files and their cache headers as built.
            // (ASP.NET's default for a build manifest re-checks each file on every request, replaces
            // immutable caching with no-cache, and recompresses a changed file as gzip whatever the
            // negotiated encoding.)
            builder.UseSetting("ReloadStaticAssetsAtRuntime", "false");
        }
    }

    /// <summary>
    /// Adds the security headers and answers <c>/</c> with the app's <c>index.html</c>. Must run
    /// before routing, so that <c>/</c> is matched as <c>/index.html</c>.
    /// </summary>
    public static void UseWebApp(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(static (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            if (context.Request.Path == "/")
            {
                context.Request.Path = "/index.html";
            }
            return next(context);
        });
    }

    /// <summary>Maps the app's static files (from the build's static web assets manifest).</summary>
    public static void MapWebApp(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var endpointsManifest = Path.Combine(AppContext.BaseDirectory, ManifestPrefix + "endpoints.json");
        if (File.Exists(endpointsManifest))
        {
            app.MapStaticAssets(endpointsManifest);
        }
    }
}
