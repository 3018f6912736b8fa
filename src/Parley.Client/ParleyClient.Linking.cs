using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Parley.Client.Devices;
using Parley.Client.Provisioning;
using Parley.Client.Storage;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Provisioning;
using Parley.Protocol;

namespace Parley.Client;

// Linking a device by code, with no shared folder: the new device opens a channel on the server's
// provisioning relay and shows a link code holding the channel and an ephemeral public key; the
// primary approves the code, adds the device to the signed list, and seals the new device's
// credentials, identity key pair, the account key and the list to that ephemeral key. The relay
// sees only ciphertext. See docs/protocol.md, "Linking a device by code".
public sealed partial class ParleyClient
{
    /// <summary>
    /// On a new device: opens a link request on <paramref name="server"/> for the (empty) profile
    /// folder <paramref name="profileDirectory"/>, whose store <paramref name="openStore"/> opens
    /// once the link is approved (Parley.Client.Sqlite's RequestLinkAsync is the public entry).
    /// </summary>
    internal static async Task<LinkRequest> RequestProfileLinkAsync(string profileDirectory, Func<bool> isRegistered, Func<IClientStore> openStore,
        Uri server, string? deviceName, ParleyClientOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        if (ServerAddressProblem(server) is { } problem)
        {
            throw new ArgumentException($"The server address {problem}.", nameof(server));
        }
        if (isRegistered())
        {
            throw new InvalidOperationException($"Profile {profileDirectory} already holds an account.");
        }
        return await OpenLinkRequestAsync(server, deviceName, options, (channel, ephemeral) => WaitForLinkAsync(
            _ =>
            {
                if (isRegistered())
                {
                    throw new InvalidOperationException($"Profile {profileDirectory} already holds an account.");
                }
                return Task.FromResult(openStore());
            },
            (store, credentials) => new ParleyClient(profileDirectory, store, credentials, options),
            server, channel, ephemeral, cancellationToken), cancellationToken);
    }

    /// <summary>Opens a channel on the relay and returns the request whose <see cref="LinkRequest.Linked"/> is <paramref name="wait"/>'s task.</summary>
    private static async Task<LinkRequest> OpenLinkRequestAsync(Uri server, string? deviceName, ParleyClientOptions? options,
        Func<string, EcKeyPair, Task<ParleyClient>> wait, CancellationToken cancellationToken)
    {
        AccountProvisioning.RequireSecureTransport(server, options);
        var ephemeral = EcKeyPair.Generate();
        using var http = AccountProvisioning.NewHttp();
        using var response = await http.PostAsJsonAsync(new Uri(server, ProvisioningApi.Channels), new LinkChannelRequest(deviceName), AccountProvisioning.Json, cancellationToken);
        await AccountProvisioning.ThrowIfFailedAsync(response, cancellationToken);
        var channel = await ReadJsonAsync<LinkChannel>(response, cancellationToken);
        if (channel is null || channel.Channel is not { Length: 22 } || channel.Channel.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            throw new ParleyException(ErrorCode.BadRequest, "The server answered the link request with a malformed channel.", "bad_provision");
        }
        var code = new LinkCode(channel.Channel, ephemeral.PublicKey);
        var expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(channel.ExpiresAt);
        return new LinkRequest(code.ToString(), code.Fingerprint, expiresAt, wait(channel.Channel, ephemeral));
    }

    /// <summary>
    /// On a device of the account: what the new device behind <paramref name="code"/> asks to be
    /// called, and the fingerprint to compare with the one it shows. Throws <see cref="ParleyException"/>
    /// <c>bad_link_code</c>, <c>link_code_expired</c> or <c>link_code_used</c>.
    /// </summary>
    public async Task<PendingLink> GetPendingLinkAsync(string code, CancellationToken cancellationToken = default)
    {
        var parsed = ParseCode(code);
        using var http = AccountProvisioning.NewHttp();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Credentials.Server, ProvisioningApi.Request(parsed.Channel)));
        request.Headers.Authorization = BasicAuthorization();
        using var response = await http.SendAsync(request, cancellationToken);
        await AccountProvisioning.ThrowIfFailedAsync(response, cancellationToken);
        var info = await ReadJsonAsync<LinkChannelInfo>(response, cancellationToken)
            ?? throw new ParleyException(ErrorCode.BadRequest, "The server answered with a malformed link request.", "bad_provision");
        // The server checks the name the new device chose; one that still breaks the rules is not shown as given.
        var name = DeviceName.IsValid(info.DeviceName) ? info.DeviceName : "(a malformed device name)";
        return new PendingLink(name, parsed.Fingerprint, DateTimeOffset.FromUnixTimeMilliseconds(info.ExpiresAt));
    }

    /// <summary>
    /// On the primary device: approves the link code of a new device. Creates the device on the
    /// server, signs and publishes the device list that names it (with an identity key pair made
    /// for it here), and sends it its credentials, that key pair, the account key and the list,
    /// sealed to the key in the code, with the pointers to the encrypted history of the last
    /// <see cref="ParleyClientOptions.HistoryWindow"/> (see docs/protocol.md, "History for a new
    /// device"; progress through <see cref="ParleyClientOptions.HistoryProgress"/>). Returns the new device's id. Throws <see cref="ParleyException"/>
    /// <c>not_primary</c>, <c>bad_link_code</c>, <c>link_code_expired</c>, <c>link_code_used</c> or
    /// <c>too_many_devices</c>.
    /// </summary>
    public async Task<uint> ApproveLinkAsync(string code, CancellationToken cancellationToken = default)
    {
        RequireEncryption();
        if (!IsPrimaryDevice)
        {
            throw new ParleyException(ErrorCode.Forbidden,
                "Only the account's primary device (the one that registered) can approve a link: it holds the account key that signs the device list.", "not_primary");
        }
        var parsed = ParseCode(code);
        var pending = await GetPendingLinkAsync(code, cancellationToken);
        var creds = await AccountProvisioning.LinkAsync(Credentials, pending.DeviceName, _options, cancellationToken);
        try
        {
            var identity = IdentityKeyPair.Generate();
            SignedDeviceList signed;
            await using (var connection = await OpenShortConnectionAsync(cancellationToken))
            {
                if (_store.OwnSignedList() is null)
                {
                    SignNextList(null);
                }
                // A device gone from the server (it removed itself) must leave the list first, or the server refuses it.
                var devices = await connection.RequestAsync(new ClientFrame { GetDevices = new GetDevices { User = Me } }, cancellationToken);
                await DropGoneDevicesAsync(devices.DeviceList, frame => connection.RequestAsync(frame, cancellationToken));
                signed = SignNextList(new ListedDevice
                {
                    DeviceId = creds.DeviceId,
                    IdentityKey = ByteString.CopyFrom(identity.IdentityKey.Serialize()),
                    AddedAt = _options.Time.GetUtcNow().ToUnixTimeMilliseconds(),
                });
                await PublishListAsync(connection, signed, cancellationToken);
                await connection.CloseAsync();
            }
            var message = new ProvisionMessage
            {
                User = creds.User,
                DeviceId = creds.DeviceId,
                Password = creds.Password,
                AccountKey = ByteString.CopyFrom(AccountKey!.Serialize()),
                IdentityKeyPair = ByteString.CopyFrom(identity.Serialize()),
                SignedList = signed,
            };
            var (history, historyMessages) = await UploadHistoryAsync(cancellationToken);
            message.HistoryChunks.AddRange(history);
            message.HistoryMessages = (uint)historyMessages;
            var envelope = Convert.ToBase64String(ProvisioningCipher.Seal(parsed.EphemeralKey, message.ToByteArray()));
            using var http = AccountProvisioning.NewHttp();
            using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(Credentials.Server, ProvisioningApi.Channel(parsed.Channel)))
            {
                Content = JsonContent.Create(new ProvisionEnvelope(envelope), options: AccountProvisioning.Json),
            };
            request.Headers.Authorization = BasicAuthorization();
            using var response = await http.SendAsync(request, cancellationToken);
            await AccountProvisioning.ThrowIfFailedAsync(response, cancellationToken);
        }
        catch
        {
            // Nobody holds the new device's credentials: it must not stay behind on the server or in the list.
            await UndoLinkAsync(creds.DeviceId);
            throw;
        }
        return creds.DeviceId;
    }

    /// <summary>
    /// After a failed approval: removes the device it created and, when a published list already
    /// names it, publishes the next one without it. Best effort: what fails here is left to the
    /// primary's next connect (a list naming a device the server no longer has is signed anew then)
    /// or to <c>parley devices remove</c>.
    /// </summary>
    private async Task UndoLinkAsync(uint deviceId)
    {
        using var timeout = new CancellationTokenSource(_options.ResponseTimeout, _options.Time);
        try
        {
            await using var connection = await OpenShortConnectionAsync(timeout.Token);
            await connection.RequestAsync(new ClientFrame { RemoveDevice = new RemoveDevice { DeviceId = deviceId } }, timeout.Token);
            if (_store.OwnSignedList() is { } own && AccountDeviceList.Parser.ParseFrom(own.List).Devices.Any(d => d.DeviceId == deviceId))
            {
                await PublishListAsync(connection, SignNextList(add: null, remove: deviceId), timeout.Token);
            }
            await connection.CloseAsync();
        }
        catch (Exception e) when (e is ParleyException or IOException or HttpRequestException or OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
            // Left for the next connect, as above.
        }
    }

    private static LinkCode ParseCode(string code) =>
        LinkCode.Parse(code ?? "") ?? throw new ParleyException(ErrorCode.BadRequest,
            "That is not a link code: copy the whole code the new device shows (66 letters, digits, '-' and '_').", "bad_link_code");

    private AuthenticationHeaderValue BasicAuthorization() =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Me}.{Credentials.DeviceId}:{Credentials.Password}")));

    private static async Task<T?> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(AccountProvisioning.Json, cancellationToken);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    /// <summary>
    /// The new device's side: waits on the channel for the sealed answer, checks it, saves it in
    /// the store <paramref name="openStore"/> opens (a profile folder or key-value persistence),
    /// makes the client with <paramref name="create"/>, publishes keys.
    /// </summary>
    private static async Task<ParleyClient> WaitForLinkAsync(Func<CancellationToken, Task<IClientStore>> openStore,
        Func<IClientStore, DeviceCredentialsProfile, ParleyClient> create, Uri server, string channel, EcKeyPair ephemeral,
        CancellationToken cancellationToken)
    {
        ProvisionEnvelope? answer = null;
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60), MaxResponseContentBufferSize = 2L * WireLimits.MaxProvisioningEnvelopeBytes })
        {
            while (answer is null)
            {
                using var response = await http.GetAsync(new Uri(server, ProvisioningApi.Channel(channel)), cancellationToken);
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    continue; // the server's wait ended before anyone approved: ask again
                }
                await AccountProvisioning.ThrowIfFailedAsync(response, cancellationToken);
                answer = await ReadJsonAsync<ProvisionEnvelope>(response, cancellationToken) ?? throw BadProvision("a malformed answer");
            }
        }
        ProvisionMessage message;
        try
        {
            var plain = ProvisioningCipher.Open(ephemeral, Convert.FromBase64String(answer.Envelope));
            message = ProvisionMessage.Parser.ParseFrom(plain);
        }
        catch (Exception e) when (e is CryptoException or FormatException or InvalidProtocolBufferException)
        {
            throw BadProvision("an answer that does not open with this request's key", e);
        }
        if (!UserName.IsValid(message.User) || message.DeviceId == 0 || string.IsNullOrEmpty(message.Password) || message.SignedList is null)
        {
            throw BadProvision("incomplete credentials");
        }
        IdentityKey accountKey;
        IdentityKeyPair identity;
        try
        {
            accountKey = IdentityKey.Deserialize(message.AccountKey.Span);
            identity = IdentityKeyPair.Deserialize(message.IdentityKeyPair.Span);
        }
        catch (CryptoException e)
        {
            throw BadProvision("malformed keys", e);
        }
        var list = VerifiedList(message.User, message.SignedList);
        if (list is null || !list.AccountKey.Span.SequenceEqual(message.AccountKey.Span)
            || !list.Devices.Any(d => d.DeviceId == message.DeviceId && d.IdentityKey.Span.SequenceEqual(identity.IdentityKey.Serialize())))
        {
            throw BadProvision("a device list that is not signed by the account key or does not name this device");
        }
        var store = await openStore(cancellationToken);
        store.SaveAccountKeys(null, accountKey);
        store.SaveOwnIdentity(identity, RegistrationId.Generate());
        store.TrustList(message.User, list, isPeer: false);
        // With the credentials' flush: a process killed from here on still finds the history to import.
        SavePendingHistory(store, message);
        // Saved last: a profile counts as registered only once everything else is in.
        var credentials = new DeviceCredentialsProfile(server, message.User, message.DeviceId, message.Password);
        store.SaveCredentials(credentials);
        await store.FlushAsync(cancellationToken);
        var client = create(store, credentials);
        try
        {
            await client.PublishFirstKeysAsync(null, cancellationToken);
            await client.ImportHistoryAsync(cancellationToken);
        }
        catch
        {
            // Not handed to the caller: closed here (its import stopped), and the profile opens later as linked.
            await client.DisposeAsync();
            throw;
        }
        return client;
    }

    private static ParleyException BadProvision(string what, Exception? inner = null) =>
        new(ErrorCode.BadRequest, $"The link was answered with {what}; this device was not linked.", "bad_provision", inner: inner);
}
