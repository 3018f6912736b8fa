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
        await _connection.RequestAsync(() => new ClientFrame { RemoveDevice = new RemoveDevice { DeviceId = deviceId } }, cancellationToken);
        if (IsPrimaryDevice && deviceId != Credentials.DeviceId)
        {
            var signed = SignNextList(add: null, remove: deviceId);
            await _connection.RequestAsync(() => new ClientFrame { PublishDeviceList = new PublishDeviceList { Signed = signed } }, cancellationToken);
            TrustSignedList(Me, signed);
        }
        _store.CacheDevices(Me, []);
    }
}
