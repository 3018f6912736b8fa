using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Parley.Server.Devices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Protocol;
using Parley.Server.Accounts;
using Parley.Server.Configuration;
using Parley.Server.Contacts;
using Parley.Server.Gateway;
using Parley.Server.Keys;
using Parley.Server.Limits;
using Parley.Server.Media;
using Parley.Server.Messaging;
using Parley.Server.Observability;
using Parley.Server.Presence;
using Parley.Server.Push;
using Parley.Server.Groups;
using Parley.Server.Storage.Sqlite;
using Parley.Server.Tls;
using Parley.Server.WebApp;

namespace Parley.Server;

/// <summary>Builds and starts the Parley server: the one place that wires every capability together.</summary>
public static partial class ParleyServer
{
    /// <summary>The address the server listens on when none is given.</summary>
    public const string DefaultUrl = "http://localhost:8080";

    /// <summary>
    /// Builds (does not start) the server from command-line arguments: <c>--urls URL</c>,
    /// <c>--data DIR</c>, <c>--cert CERT.pem --key KEY.pem</c> (for https:// addresses), and
    /// any <c>--Parley:Section:Key=value</c>.
    /// </summary>
    public static WebApplication Build(string[] args, Action<ParleyOptions>? configure = null, TimeProvider? time = null,
        Action<IServiceCollection>? services = null)
    {
        // Content root beside the binary, so appsettings.json is found wherever the server is started from.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string>
        {
            ["--data"] = "Parley:DataDir",
            ["--cert"] = "Parley:Tls:CertificatePath",
            ["--key"] = "Parley:Tls:KeyPath",
        });
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
            builder.Configuration["urls"] = DefaultUrl;
        }
        var options = new ParleyOptions();
        builder.Configuration.GetSection("Parley").Bind(options);
        configure?.Invoke(options);
        var capacity = new ServerCapacity(Options.Create(options));
        AddParley(builder.Services, options, capacity, time ?? TimeProvider.System);
        services?.Invoke(builder.Services); // last registration wins: e.g. a real SMS code sender
        var certificate = ServerCertificate.Load(options.Tls, builder.Configuration);
        var httpsPorts = ServerCertificate.HttpsPorts(builder.Configuration);
        if (httpsPorts.Count > 0 && certificate is null)
        {
            throw new InvalidOperationException(
                "https:// addresses need a certificate: --cert CERT.pem --key KEY.pem, or Kestrel:Certificates:Default (Path, KeyPath).");
        }
        builder.WebHost.UseKestrelHttpsConfiguration();
        if (options.InlineSocketCompletions && Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
        {
            // Read by the runtime once, at the process's first socket: Kestrel has opened none yet.
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        }
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = options.InlineSocketScheduling);
        builder.WebHost.UseWebAppFiles();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // A backstop behind the gateway's own limit: Kestrel drops sockets past it at accept,
            // so descriptors never run out even under a storm of plain HTTP connections.
            kestrel.Limits.MaxConcurrentConnections = capacity.MaxConnections + (ServerCapacity.ReservedDescriptors / 2);
            // Plain HTTP requests get the same deadline for their headers as an upgrade request.
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(options.Limits.UpgradeTimeoutSeconds);
            kestrel.AddServerHeader = false;
            kestrel.ConfigureEndpointDefaults(listen =>
            {
                // Order matters: the admission gate first (it counts and times every socket, TLS
                // handshake included), then TLS, then the WebSocket listener, which must read
                // decrypted bytes. Kestrel adds its own TLS only to https endpoints that have none yet.
                listen.Use(next =>
                {
                    AdmissionGate? gate = null;
                    return connection => (gate ??= listen.ApplicationServices.GetRequiredService<AdmissionGate>()).OnConnectionAsync(connection, next);
                });
                if (certificate is not null && listen.IPEndPoint is { } endPoint && httpsPorts.Contains(endPoint.Port))
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificate = certificate.Certificate,
                        ServerCertificateChain = certificate.Chain,
                        HandshakeTimeout = TimeSpan.FromSeconds(options.Limits.UpgradeTimeoutSeconds),
                    });
                }
                listen.Use(next =>
                {
                    WebSocketListener? listener = null;
                    return connection => (listener ??= listen.ApplicationServices.GetRequiredService<WebSocketListener>()).OnConnectionAsync(connection, next);
                });
            });
        });

        var app = builder.Build();
        if (options.TrustedProxies.Count > 0)
        {
            // Limits per address (registrations) see the client behind a known proxy; the
            // WebSocket listener reads X-Forwarded-For the same way (TrustedProxies).
            var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto, ForwardLimit = null };
            forwarded.KnownIPNetworks.Clear(); // the defaults trust loopback: any local process could forge the header
            forwarded.KnownProxies.Clear();
            foreach (var network in app.Services.GetRequiredService<TrustedProxies>().Networks)
            {
                forwarded.KnownIPNetworks.Add(network);
                if (network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                {
                    // The same range as a dual-stack socket reports it (::ffff:a.b.c.d).
                    forwarded.KnownIPNetworks.Add(new System.Net.IPNetwork(network.BaseAddress.MapToIPv6(), network.PrefixLength + 96));
                }
            }
            app.UseForwardedHeaders(forwarded);
        }
        // With inline socket completions a request may start on the runtime's epoll thread; the
        // endpoints block (password hashing, SQLite, media files), so they run on the thread pool.
        app.Use(static (context, next) => Thread.CurrentThread.IsThreadPoolThread ? next(context) : OffTheSocketThreadAsync(context, next));
        app.UseWebApp();
        app.UseRouting();
        app.UseRateLimiter();
        app.MapRegistration();
        app.MapProvisioning();
        app.MapMetrics();
        app.MapPush();
        app.MapMedia();
        app.MapWebApp();
        // /v1/ws never reaches this pipeline: WebSocketListener takes those connections off the transport.
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            foreach (var connection in app.Services.GetRequiredService<ConnectionRegistry>().Connections)
            {
                connection.RequestClose(System.Net.WebSockets.WebSocketCloseStatus.EndpointUnavailable, "server shutting down");
            }
        });
        app.Lifetime.ApplicationStarted.Register(() => WarnIfPlainTextOnNetwork(app));
        // Connections closed during shutdown record last-seen after the flusher stopped: flush once more.
        app.Lifetime.ApplicationStopped.Register(() => app.Services.GetRequiredService<AccountDirectory>().FlushLastSeen());
        return app;
    }

    /// <summary>
    /// Starts the real server on http://127.0.0.1 with a free port and SQLite under
    /// <paramref name="dataDir"/>; returns once it accepts connections.
    /// </summary>
    public static async Task<RunningServer> StartAsync(string dataDir, Action<ParleyOptions>? configure = null, TimeProvider? time = null,
        Action<IServiceCollection>? services = null)
    {
        var app = Build(["--urls", "http://127.0.0.1:0", "--data", dataDir], configure, time, services);
        await app.StartAsync();
        var address = app.Urls.First();
        return new RunningServer(app, new Uri(address.EndsWith('/') ? address : address + "/"));
    }

    /// <summary>Warns for each http:// address reachable from other hosts: passwords in Hello would cross the network in clear.</summary>
    private static void WarnIfPlainTextOnNetwork(WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ParleyServer));
        foreach (var url in app.Urls)
        {
            if (Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                && uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
            {
                LogPlainText(logger, url);
            }
        }
    }

    [LoggerMessage(LogLevel.Warning, "Listening on {Url} without TLS: device passwords and messages' metadata cross the network in clear. Use https:// with --cert/--key, or a TLS-terminating proxy (docs/operations.md)")]
    private static partial void LogPlainText(ILogger logger, string url);

    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    private static async Task OffTheSocketThreadAsync(HttpContext context, RequestDelegate next)
    {
        await Task.Yield();
        await next(context);
    }

    private static void AddParley(IServiceCollection services, ParleyOptions options, ServerCapacity capacity, TimeProvider time)
    {
        services.AddSingleton(time);
        services.AddSingleton(options);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(new SqliteDatabase(options.DataDir, options.Storage));
        services.AddSingleton<IAccountStore, SqliteAccountStore>();
        services.AddSingleton<AccountDirectory>();
        services.AddSingleton<VerificationCodes>();
        services.AddSingleton<ProvisioningChannels>();
        services.TryAddSingleton<IVerificationCodeSender, ConsoleCodeSender>();
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<IEnvelopeSink, LiveDelivery>();
        services.AddSingleton<SqliteMessageStore>();
        services.AddSingleton<IMessageStore>(sp => sp.GetRequiredService<SqliteMessageStore>());
        services.AddSingleton<IGroupStore, SqliteGroupStore>();
        services.AddSingleton<GroupDirectory>();
        services.AddSingleton<GroupAdministration>();
        services.AddSingleton<GroupFanout>();
        services.AddSingleton<IContactStore, SqliteContactStore>();
        services.AddSingleton<ContactBook>();
        services.AddSingleton<HelloThrottle>();
        services.AddHostedService(sp => sp.GetRequiredService<HelloThrottle>());
        services.AddSingleton<LimitMetrics>();
        services.AddSingleton<MessageRouter>();
        services.AddSingleton<PresenceHub>();
        services.AddSingleton<IDeviceKeyStore, SqliteDeviceKeyStore>();
        services.AddSingleton<PreKeyService>();
        services.AddSingleton(capacity);
        services.AddSingleton<WebSocketGateway>();
        services.AddSingleton<WebSocketListener>();
        services.AddSingleton<TrustedProxies>();
        services.AddSingleton<UnauthenticatedSockets>();
        services.AddSingleton<AdmissionGate>();
        services.AddSingleton<ExpirySweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<ExpirySweeper>());
        services.AddHostedService<IdleSweeper>();
        services.AddHostedService<WalCheckpointer>();
        services.AddHostedService<LastSeenFlusher>();
        services.AddPush(options);
        services.AddParleyMetrics();
        services.AddMedia();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (context, token) =>
                await context.HttpContext.Response.WriteAsJsonAsync(new ApiError("rate_limited", "too many registrations from this address; wait a minute"), ParleyJson.Options, token);
            limiter.AddPolicy(RegistrationEndpoints.RateLimitPolicy, http =>
                RateLimitPartition.GetFixedWindowLimiter(http.Connection.RemoteIpAddress is { } ip ? ClientNetwork.KeyOf(ip) : "?", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.Limits.RegistrationsPerMinutePerAddress,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
        });
    }
}
