using System.CommandLine;
using System.Net.WebSockets;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Cli;

/// <summary>
/// What a command action gets: its output, its profile folder, and a way to open and connect the
/// device's client. <see cref="RunAsync"/> turns failures into the documented exit codes.
/// </summary>
internal sealed class CliContext
{
    /// <summary>How long a command waits for the server before giving up with exit code 2.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    private CliContext(ParseResult parse)
    {
        Parse = parse;
        Output = new CliOutput(parse.GetValue(CliOptions.Json));
        ProfileDir = Path.GetFullPath(parse.GetValue(CliOptions.Profile) ?? ParleyClient.DefaultProfileDirectory);
        Insecure = parse.GetValue(CliOptions.Insecure);
    }

    /// <summary>--insecure: credentials may go in clear to a server not on this machine.</summary>
    public bool Insecure { get; }

    /// <summary><paramref name="options"/> (or new ones) with the transport choice of the command line applied.</summary>
    public ParleyClientOptions ClientOptions(ParleyClientOptions? options = null)
    {
        options ??= new ParleyClientOptions();
        options.AllowInsecureTransport |= Insecure;
        return options;
    }

    public ParseResult Parse { get; }

    public CliOutput Output { get; }

    public string ProfileDir { get; }

    /// <summary>Runs <paramref name="action"/>, mapping exceptions to exit codes with a clear message.</summary>
    public static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken, Func<CliContext, CancellationToken, Task<int>> action)
    {
        var context = new CliContext(parse);
        try
        {
            return await action(context, cancellationToken);
        }
        catch (ParleyException e) when (e.ApiCode == "insecure_transport")
        {
            return context.Output.Error(ExitCodes.Usage, e.Message, e.ApiCode);
        }
        catch (ParleyException e) when (e.IsConnectionLost)
        {
            return context.Output.Error(ExitCodes.Server, $"lost the connection to the server: {e.Message}", "unavailable");
        }
        catch (ParleyException e) when (e.ApiCode is "identity_changed" or "no_keys" or "bad_bundle" or "encryption_failed")
        {
            // Refused by this client's end-to-end encryption, not by the server.
            return context.Output.Error(ExitCodes.Server, $"not sent: {e.Message}", e.ApiCode);
        }
        catch (ParleyException e)
        {
            return context.Output.Error(ExitCodes.Server, $"server refused: {e.Message}", e.ApiCode ?? CodeName(e.Code));
        }
        catch (Exception e) when (e is HttpRequestException or WebSocketException or IOException && e is not FileNotFoundException)
        {
            return context.Output.Error(ExitCodes.Server, $"cannot reach the server: {e.Message}", "unreachable");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return context.Output.Error(ExitCodes.Usage, "interrupted", "interrupted");
        }
        catch (ArgumentException e)
        {
            return context.Output.Error(ExitCodes.Usage, ForPeople(e), "usage");
        }
        catch (Exception e) when (e is InvalidOperationException or FileNotFoundException)
        {
            return context.Output.Error(ExitCodes.Usage, e.Message, "usage");
        }
    }

    /// <summary>An argument error's message without .NET's " (Parameter 'x')" suffix, which means nothing to a person.</summary>
    public static string ForPeople(ArgumentException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var message = e.Message;
        var suffix = e.ParamName is null ? null : $" (Parameter '{e.ParamName}')";
        return suffix is not null && message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
    }

    /// <summary>Opens this profile's client; fails with a usage error when the profile has no account.</summary>
    public ParleyClient OpenClient(ParleyClientOptions? options = null)
    {
        if (!ParleyClient.IsRegistered(ProfileDir))
        {
            throw new InvalidOperationException($"no account in profile {ProfileDir}: run `parley register --server URL --user NAME` (or pass --profile)");
        }
        return ParleyClient.Open(ProfileDir, ClientOptions(options));
    }

    /// <summary>
    /// Opens and connects this profile's client, giving up after <see cref="ConnectTimeout"/>, then
    /// sends what waits in the outbox (from an earlier <c>send</c> while the server was down) unless
    /// <paramref name="flushOutbox"/> is false.
    /// </summary>
    public async Task<ParleyClient> ConnectAsync(CancellationToken cancellationToken, ParleyClientOptions? options = null, bool flushOutbox = true)
    {
        var client = OpenClient(options);
        try
        {
            // Taken before connecting: the connection starts sending them at once.
            var queued = client.QueuedMessageIds();
            await ConnectAsync(client, giveUpAtFirstFailure: false, cancellationToken);
            if (flushOutbox)
            {
                await FlushOutboxAsync(client, queued, cancellationToken);
            }
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Connects <paramref name="client"/>, giving up after <see cref="ConnectTimeout"/>, or as soon as
    /// one attempt fails when <paramref name="giveUpAtFirstFailure"/> is set (a send that can queue
    /// instead should not keep the user waiting). Throws an <c>unavailable</c> <see cref="ParleyException"/>.
    /// </summary>
    public static async Task ConnectAsync(ParleyClient client, bool giveUpAtFirstFailure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        void OnStateChanged(object? sender, Client.Events.ConnectionStateChangedEventArgs e)
        {
            if (e is { State: ConnectionState.Disconnected, Error: not null })
            {
                timeout.Cancel();
            }
        }
        if (giveUpAtFirstFailure)
        {
            client.ConnectionStateChanged += OnStateChanged;
        }
        try
        {
            await client.ConnectAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var why = client.LastConnectionError?.Message ?? "no answer";
            throw new ParleyException(ErrorCode.Unavailable, $"cannot reach {client.Credentials.Server} ({why})");
        }
        finally
        {
            client.ConnectionStateChanged -= OnStateChanged;
        }
    }

    /// <summary>
    /// Waits until the <paramref name="queued"/> messages (taken from the outbox before connecting)
    /// are sent, reporting each on stderr unless <paramref name="noteSent"/> is false (stdout stays
    /// the command's own output). Returns the ids sent; what is not sent within
    /// <see cref="ConnectTimeout"/> stays queued.
    /// </summary>
    public async Task<IReadOnlyList<string>> FlushOutboxAsync(ParleyClient client, IReadOnlyList<string> queued, CancellationToken cancellationToken, bool noteSent = true)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(queued);
        if (queued.Count == 0)
        {
            return [];
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        var refused = new List<(string MessageId, string Reason)>();
        IReadOnlyList<string> sent = [];
        try
        {
            sent = await client.FlushOutboxAsync(queued, refused, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Output.Note($"{Pending} {client.PendingSends} queued message(s) not sent yet; they stay in the outbox");
        }
        foreach (var id in noteSent ? sent : [])
        {
            Output.Note($"✓ sent queued message {id}");
        }
        foreach (var (id, reason) in refused)
        {
            Output.Note($"✗ queued message {id} was not sent: {reason}");
        }
        return sent;
    }

    /// <summary>The mark of a message stored in the outbox and not yet SENT.</summary>
    public const string Pending = "🕓";

    /// <summary>
    /// A command that takes a message id: it connects, syncs (so pending messages and receipts are
    /// applied), finds the message in this profile and hands it to <paramref name="action"/>; an id
    /// this profile does not hold is a usage error.
    /// </summary>
    public static Command MessageCommand(string name, string description, string idDescription,
        Func<CliContext, ParleyClient, StoredMessage, CancellationToken, Task<int>> action) =>
        MessageCommand(name, description, idDescription, worksOffline: false, action);

    /// <summary>
    /// As <see cref="MessageCommand(string, string, string, Func{CliContext, ParleyClient, StoredMessage, CancellationToken, Task{int}})"/>;
    /// with <paramref name="worksOffline"/>, a server that cannot be reached is noted on stderr and
    /// the action runs on what this profile knows.
    /// </summary>
    public static Command MessageCommand(string name, string description, string idDescription, bool worksOffline,
        Func<CliContext, ParleyClient, StoredMessage, CancellationToken, Task<int>> action)
    {
        var id = new Argument<string>("id") { Description = idDescription };
        var command = new Command(name, description)
        {
            id,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(parse, cancellationToken, async (ctx, ct) =>
        {
            var messageId = parse.GetValue(id)!;
            await using var client = ctx.OpenClient();
            try
            {
                var queued = client.QueuedMessageIds();
                await ConnectAsync(client, giveUpAtFirstFailure: worksOffline, ct);
                await ctx.FlushOutboxAsync(client, queued, ct);
                await client.SyncAsync(ct);
            }
            catch (ParleyException e) when (worksOffline && e.IsConnectionLost)
            {
                await client.DisconnectAsync();
                ctx.Output.Note($"parley: {e.Message}; showing what this device knows");
            }
            if (client.FindMessage(messageId) is not { } message)
            {
                return ctx.Output.Error(ExitCodes.Usage, $"no message {messageId} in this profile", "not_found");
            }
            return await action(ctx, client, message, ct);
        }));
        return command;
    }

    /// <summary>The lower-case wire name of an error code (e.g. <c>unknown_user</c>).</summary>
    public static string CodeName(ErrorCode code) => code switch
    {
        ErrorCode.BadRequest => "bad_request",
        ErrorCode.UnsupportedVersion => "unsupported_version",
        ErrorCode.Unauthorized => "unauthorized",
        ErrorCode.UnknownUser => "unknown_user",
        ErrorCode.StaleDevices => "stale_devices",
        ErrorCode.TooLarge => "too_large",
        ErrorCode.RateLimited => "rate_limited",
        ErrorCode.UnknownType => "unknown_type",
        ErrorCode.NotFound => "not_found",
        ErrorCode.Unavailable => "unavailable",
        ErrorCode.Forbidden => "forbidden",
        ErrorCode.NotAMember => "not_a_member",
        ErrorCode.NotPrimary => "not_primary",
        ErrorCode.RecipientQueueFull => "recipient_queue_full",
        ErrorCode.InvalidInvite => "invalid_invite",
        _ => "internal",
    };

    /// <summary>The lower-case name of a status for output.</summary>
    public static string StatusName(MessageStatus status) => status switch
    {
        MessageStatus.Pending => "pending",
        MessageStatus.Sent => "sent",
        MessageStatus.Delivered => "delivered",
        MessageStatus.Read => "read",
        _ => "failed",
    };
}
