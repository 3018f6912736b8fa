using Parley.Client.Devices;
using Parley.Client.Storage;

namespace Parley.Client;

// Linking a device that keeps its store in key-value persistence (the browser's IndexedDB) rather
// than a profile folder: the same relay, code and checks as RequestLinkAsync(profileDirectory, …).
public sealed partial class ParleyClient
{
    /// <summary>
    /// On a new device that keeps its store in <paramref name="persistence"/> (in the browser:
    /// IndexedDB, which must not hold an account yet): opens a link request on
    /// <paramref name="server"/>. Show the returned code and fingerprint; its
    /// <see cref="LinkRequest.Linked"/> completes with this device's client (saved in
    /// <paramref name="persistence"/>, keys published, not connected) once the account's primary
    /// device approves the code, and fails with <c>link_code_expired</c> when nobody does in time,
    /// or <c>bad_provision</c> when what arrives is not a valid answer to this request.
    /// </summary>
    public static async Task<LinkRequest> RequestLinkAsync(IKeyValuePersistence persistence, Uri server, string? deviceName = null,
        ParleyClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(persistence);
        ArgumentNullException.ThrowIfNull(server);
        if (ServerAddressProblem(server) is { } problem)
        {
            throw new ArgumentException($"The server address {problem}.", nameof(server));
        }
        var store = await KeyValueClientStore.LoadAsync(persistence, cancellationToken);
        try
        {
            RequireNoAccount(store);
            return await OpenLinkRequestAsync(server, deviceName, options, (channel, ephemeral) => WaitForStoredLinkAsync(
                store, server, channel, ephemeral, options, cancellationToken), cancellationToken);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private static async Task<ParleyClient> WaitForStoredLinkAsync(KeyValueClientStore store, Uri server, string channel,
        Crypto.Keys.EcKeyPair ephemeral, ParleyClientOptions? options, CancellationToken cancellationToken)
    {
        try
        {
            return await WaitForLinkAsync(
                _ => Task.FromResult<IClientStore>(store),
                (_, credentials) => WithStorageEvents(new ParleyClient(VirtualProfileDirectory(credentials), store, credentials, options), store),
                server, channel, ephemeral, cancellationToken);
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private static void RequireNoAccount(KeyValueClientStore store)
    {
        if (store.LoadCredentials() is not null)
        {
            throw new InvalidOperationException("This storage already holds an account.");
        }
    }
}
