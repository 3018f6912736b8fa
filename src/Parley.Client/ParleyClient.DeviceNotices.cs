using System.Net.WebSockets;
using Google.Protobuf;
using Parley.Client.Connection;
using Parley.Client.Devices;
using Parley.Client.Events;
using Parley.Protocol;

namespace Parley.Client;

// Telling the account's devices when one is linked or removed (docs/protocol.md, "Device-change
// notices"): the server queues DEVICE_LIST_CHANGED to the other devices; each fetches its account's
// signed list and compares it with the one it trusts, so a notice is only ever raised for a change
// the account key signed. The primary also signs a list without any device the server no longer
// has (one that removed itself), so its next list is never refused for naming it.
public sealed partial class ParleyClient
{
    private readonly Lock _ownListGate = new();

    /// <summary>
    /// Another device of this account was linked or removed (raised on each of the account's other
    /// devices once the account's signed list shows it, also after being offline).
    /// </summary>
    public event EventHandler<AccountDeviceChangedEventArgs>? AccountDeviceChanged;

    /// <summary>
    /// A DEVICE_LIST_CHANGED envelope arrived (handled outside the read loop: it makes a request):
    /// fetches this account's devices and checks its list. False when the connection ended first
    /// (the envelope is then not acked, so it comes again).
    /// </summary>
    internal async Task<bool> OnOwnDevicesChangedAsync(Session session)
    {
        if (_e2e is null)
        {
            return true;
        }
        try
        {
            using var timeout = new CancellationTokenSource(_options.ResponseTimeout, _options.Time);
            var answer = await session.Connection.RequestAsync(new ClientFrame { GetDevices = new GetDevices { User = Me } }, timeout.Token);
            await CheckOwnListAsync(answer.DeviceList, frame => session.Connection.RequestAsync(frame, timeout.Token));
            return true;
        }
        catch (Exception e) when (e is ParleyException or IOException or OperationCanceledException or WebSocketException or InvalidProtocolBufferException)
        {
            // Refused or failed: the next change (or the primary's next connect) checks again.
            return !session.Connection.Completion.IsCompleted;
        }
    }

    /// <summary>
    /// Compares the account's list as the server hands it out with the one this device trusts and
    /// raises <see cref="AccountDeviceChanged"/> per device linked or removed. On the primary, first
    /// drops the devices the server no longer has (see <see cref="DropGoneDevicesAsync"/>).
    /// </summary>
    private async Task CheckOwnListAsync(DeviceList? answer, Func<ClientFrame, Task<ServerFrame>> request)
    {
        if (IsPrimaryDevice)
        {
            await DropGoneDevicesAsync(answer, request);
            return;
        }
        List<AccountDeviceChangedEventArgs> changes;
        lock (_ownListGate)
        {
            var before = _store.TrustedList(Me);
            TryTrustSignedList(Me, answer?.Signed);
            changes = Changes(before, _store.TrustedList(Me), answer);
        }
        RaiseDeviceChanges(changes);
    }

    /// <summary>
    /// On the primary: when the server no longer has a device the last signed list names (it
    /// removed itself, or a removal's publish was lost), signs and publishes the next list without
    /// it, and reports each as removed. Nothing when the answer does not name this device (malformed).
    /// </summary>
    private async Task DropGoneDevicesAsync(DeviceList? answer, Func<ClientFrame, Task<ServerFrame>> request)
    {
        if (answer is null || !answer.DeviceIds.Contains(Credentials.DeviceId))
        {
            return;
        }
        SignedDeviceList? signed = null;
        lock (_ownListGate)
        {
            if (_store.OwnSignedList() is not { } own)
            {
                return;
            }
            foreach (var id in AccountDeviceList.Parser.ParseFrom(own.List).Devices.Select(d => d.DeviceId).ToList())
            {
                if (id != Credentials.DeviceId && !answer.DeviceIds.Contains(id))
                {
                    signed = SignNextList(add: null, remove: id);
                }
            }
        }
        if (signed is null)
        {
            return;
        }
        await request(new ClientFrame { PublishDeviceList = new PublishDeviceList { Signed = signed } });
        List<AccountDeviceChangedEventArgs> changes;
        lock (_ownListGate)
        {
            var before = _store.TrustedList(Me);
            TryTrustSignedList(Me, signed);
            changes = Changes(before, _store.TrustedList(Me), answer);
        }
        _store.CacheDevices(Me, []);
        RaiseDeviceChanges(changes);
    }

    /// <summary>The devices other than this one that <paramref name="after"/> adds to or drops from <paramref name="before"/> (a newer version only).</summary>
    private List<AccountDeviceChangedEventArgs> Changes(AccountDeviceList? before, AccountDeviceList? after, DeviceList? answer)
    {
        if (before is null || after is null || after.Version <= before.Version)
        {
            return [];
        }
        var names = new Dictionary<uint, string>();
        foreach (var info in answer?.Devices ?? [])
        {
            names.TryAdd(info.Id, info.Name.Length > 64 ? info.Name[..64] : info.Name);
        }
        var was = before.Devices.Select(d => d.DeviceId).ToHashSet();
        var now = after.Devices.Select(d => d.DeviceId).ToHashSet();
        var changes = new List<AccountDeviceChangedEventArgs>();
        foreach (var id in now.Where(id => !was.Contains(id) && id != Credentials.DeviceId).Order())
        {
            changes.Add(new AccountDeviceChangedEventArgs(id, names.GetValueOrDefault(id, ""), DeviceChange.Linked));
        }
        foreach (var id in was.Where(id => !now.Contains(id) && id != Credentials.DeviceId).Order())
        {
            changes.Add(new AccountDeviceChangedEventArgs(id, names.GetValueOrDefault(id, ""), DeviceChange.Removed));
        }
        return changes;
    }

    private void RaiseDeviceChanges(List<AccountDeviceChangedEventArgs> changes)
    {
        foreach (var change in changes)
        {
            Raise(AccountDeviceChanged, change);
        }
    }
}
