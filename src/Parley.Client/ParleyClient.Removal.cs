using Parley.Protocol;

namespace Parley.Client;

public sealed partial class ParleyClient
{
    /// <summary>
    /// Removes a device of this account: the server revokes its credentials and deletes its queue
    /// (NOT_PRIMARY unless this is the primary or the device itself). When the primary removes
    /// another device it then signs and publishes the next device list without it, so contacts
    /// stop encrypting to it. A failed publish is repeated by the primary's next connect.
    /// </summary>
    public async Task RemoveDeviceAsync(uint deviceId, CancellationToken cancellationToken = default)
    {
        var primaryRemovesAnother = IsPrimaryDevice && deviceId != Credentials.DeviceId;
        if (primaryRemovesAnother)
        {
            // A device gone from the server already (it removed itself) leaves the list first, or the server refuses the next one.
            var devices = await _connection.RequestAsync(() => new ClientFrame { GetDevices = new GetDevices { User = Me } }, cancellationToken);
            await DropGoneDevicesAsync(devices.DeviceList, frame => _connection.RequestAsync(() => frame, cancellationToken));
        }
        await _connection.RequestAsync(() => new ClientFrame { RemoveDevice = new RemoveDevice { DeviceId = deviceId } }, cancellationToken);
        if (primaryRemovesAnother)
        {
            // The server's DEVICE_LIST_CHANGED notice for this removal can reach this primary first, and
            // its handler signs the same next version: under the gate, only one of them signs.
            SignedDeviceList? signed = null;
            lock (_ownListGate)
            {
                if (_store.OwnSignedList() is not { } own || AccountDeviceList.Parser.ParseFrom(own.List).Devices.Any(d => d.DeviceId == deviceId))
                {
                    signed = SignNextList(add: null, remove: deviceId);
                }
            }
            if (signed is not null)
            {
                await _connection.RequestAsync(() => new ClientFrame { PublishDeviceList = new PublishDeviceList { Signed = signed } }, cancellationToken);
                TrustSignedList(Me, signed);
            }
        }
        _store.CacheDevices(Me, []);
    }
}
