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
            var signed = SignNextList(add: null, remove: deviceId);
            await _connection.RequestAsync(() => new ClientFrame { PublishDeviceList = new PublishDeviceList { Signed = signed } }, cancellationToken);
            TrustSignedList(Me, signed);
        }
        _store.CacheDevices(Me, []);
    }
}
