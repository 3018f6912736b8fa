using System.Collections.Immutable;
using Google.Protobuf;
using Parley.Protocol;
using Parley.Server.Accounts;

namespace Parley.Server.Messaging;

/// <summary>
/// One member device's DELIVERED for one group message, as plain values: what an ack of a fan-out
/// envelope carries from the receive loop to the store, so that no protobuf envelope is built per
/// ack. The store coalesces these into receipt envelopes (ids named once) only when it writes them.
/// <see cref="SenderDevices"/> is the sender's device list as it stood at the ack (the list is
/// swapped whole on change, so holding it is a snapshot), the devices the receipt goes to;
/// <see cref="ReaderAccount"/> is the reader's account id (the store keeps reader devices by key).
/// </summary>
public readonly record struct GroupDelivery(ByteString GroupId, ByteString MessageId, string Reader, long ReaderAccount, uint ReaderDevice, long SenderAccount, ImmutableArray<DeviceRecord> SenderDevices)
{
    /// <summary>The same receipt as one DELIVERY_RECEIPT envelope per sender device, as a plain ack would queue it.</summary>
    public List<QueuedEnvelope> ToReceipts()
    {
        var receipts = new List<QueuedEnvelope>(SenderDevices.Length);
        foreach (var device in SenderDevices)
        {
            var envelope = new Envelope { Kind = EnvelopeKind.DeliveryReceipt, Sender = Reader, SenderDevice = ReaderDevice, Conversation = Reader, GroupId = GroupId };
            envelope.ReceiptIds.Add(MessageId);
            receipts.Add(new QueuedEnvelope(new DeviceAddress(SenderAccount, device.Id).Key, envelope));
        }
        return receipts;
    }
}
