using Parley.Client.Devices;
using Parley.Client.Storage;

namespace Parley.Client;

/// <summary>
/// A device kept in a profile folder (a SQLite store, <c>parley.db</c>): the CLI's and desktop's
/// entry points to <see cref="ParleyClient"/>. They are extension members in their own assembly so
/// that the browser app, which keeps its device in IndexedDB, never downloads SQLite; callers write
/// <c>ParleyClient.Open(folder)</c> as before.
/// </summary>
public static class ProfileFolder
{
    extension(ParleyClient)
    {
        /// <summary>True when <paramref name="profileDirectory"/> holds credentials.</summary>
        public static bool IsRegistered(string profileDirectory)
        {
            if (!File.Exists(Path.Combine(profileDirectory, ClientStore.FileName)))
            {
                return false;
            }
            using var store = ClientStore.Open(profileDirectory);
            return store.LoadCredentials() is not null;
        }

        /// <summary>Opens a registered profile (does not connect). Throws when the profile has no credentials.</summary>
        public static ParleyClient Open(string profileDirectory, ParleyClientOptions? options = null)
        {
            var store = ClientStore.Open(profileDirectory);
            var credentials = store.LoadCredentials();
            if (credentials is null)
            {
                store.Dispose();
                throw new InvalidOperationException($"No account in profile {profileDirectory}: register or link first.");
            }
            return ParleyClient.OverStore(profileDirectory, store, credentials, options);
        }

        /// <summary>
        /// Creates an account on <paramref name="server"/> and saves this device's credentials in
        /// <paramref name="profileDirectory"/> (which must not hold an account yet). Does not connect.
        /// </summary>
        public static Task<ParleyClient> RegisterAsync(
            string profileDirectory, Uri server, string user, string? code = null, string? invite = null,
            string? deviceName = null, ParleyClientOptions? options = null, CancellationToken cancellationToken = default)
        {
            ParleyClient.CheckRegistration(server, user);
            RequireEmpty(profileDirectory);
            return ParleyClient.RegisterProfileAsync(profileDirectory, () => ClientStore.Open(profileDirectory),
                server, user, code, invite, deviceName, options, cancellationToken);
        }

        /// <summary>
        /// On a new device: opens a link request on <paramref name="server"/> for the (empty)
        /// <paramref name="profileDirectory"/>. Show the returned code and fingerprint; its
        /// <see cref="LinkRequest.Linked"/> completes with this device's client once a device of the
        /// account approves the code (<see cref="ParleyClient.ApproveLinkAsync"/>), and fails with
        /// <c>link_code_expired</c> when nobody does in time, or <c>bad_provision</c> when what arrives
        /// is not a valid answer to this request.
        /// </summary>
        public static Task<LinkRequest> RequestLinkAsync(string profileDirectory, Uri server, string? deviceName = null,
            ParleyClientOptions? options = null, CancellationToken cancellationToken = default) =>
            ParleyClient.RequestProfileLinkAsync(profileDirectory, () => ParleyClient.IsRegistered(profileDirectory),
                () => ClientStore.Open(profileDirectory), server, deviceName, options, cancellationToken);
    }

    extension(ParleyClient client)
    {
        /// <summary>
        /// Adds a new device to this account and saves its credentials in <paramref name="newProfileDirectory"/>.
        /// Returns the new device's client (not connected). Other devices learn of it on their next send (STALE_DEVICES).
        /// </summary>
        public Task<ParleyClient> LinkDeviceAsync(string newProfileDirectory, string? deviceName = null, CancellationToken cancellationToken = default)
        {
            ArgumentNullException.ThrowIfNull(client);
            RequireEmpty(newProfileDirectory);
            return client.LinkDeviceIntoAsync(newProfileDirectory, () => ClientStore.Open(newProfileDirectory), deviceName, cancellationToken);
        }
    }

    private static void RequireEmpty(string profileDirectory)
    {
        if (ParleyClient.IsRegistered(profileDirectory))
        {
            throw new InvalidOperationException($"Profile {profileDirectory} already holds an account.");
        }
    }
}
