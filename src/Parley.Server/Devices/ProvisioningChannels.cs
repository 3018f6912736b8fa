using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Parley.Server.Accounts;
using Parley.Server.Configuration;

namespace Parley.Server.Devices;

/// <summary>
/// The provisioning relay's channels, in memory: a channel is opened by a new device, answered
/// once by a device of an account, and forgotten when it expires (a restart forgets them all; the
/// new device asks again). The relay holds only a name and a sealed envelope.
/// </summary>
public sealed class ProvisioningChannels(IOptions<ParleyOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, ProvisioningChannel> _channels = new(StringComparer.Ordinal);

    /// <summary>Opens a channel; null when <see cref="LimitOptions.MaxOpenLinkChannels"/> are open.</summary>
    public ProvisioningChannel? Open(string deviceName)
    {
        Sweep();
        if (_channels.Count >= options.Value.Limits.MaxOpenLinkChannels)
        {
            return null;
        }
        var id = DeviceSecret.Base64Url(RandomNumberGenerator.GetBytes(16));
        var expires = time.GetUtcNow() + TimeSpan.FromMinutes(options.Value.Limits.LinkCodeLifetimeMinutes);
        var channel = new ProvisioningChannel(id, deviceName, expires);
        _channels[id] = channel;
        return channel;
    }

    /// <summary>The channel, or why not: <c>bad_link_code</c> (unknown) or <c>link_code_expired</c>.</summary>
    public (ProvisioningChannel? Channel, string? Problem) Find(string id)
    {
        if (!_channels.TryGetValue(id, out var channel))
        {
            return (null, "bad_link_code");
        }
        if (time.GetUtcNow() >= channel.ExpiresAt)
        {
            return (null, "link_code_expired");
        }
        return (channel, null);
    }

    /// <summary>Forgets channels expired for a whole lifetime (until then a late attempt is told "expired", not "unknown").</summary>
    private void Sweep()
    {
        var forgetBefore = time.GetUtcNow() - TimeSpan.FromMinutes(options.Value.Limits.LinkCodeLifetimeMinutes);
        foreach (var (id, channel) in _channels)
        {
            if (channel.ExpiresAt <= forgetBefore)
            {
                _channels.TryRemove(id, out _);
            }
        }
    }
}
