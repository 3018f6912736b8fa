using System.Text.Json;

namespace Parley.Client.Storage;

// Message rows are most of a store (5,000 in a long chat) and every one is decoded when the store
// opens. The general JSON deserializer runs interpreted in the browser, so a row in the stored format
// (declared names, enums as numbers, the id in base64) is read by hand here; anything else (a row
// an older or newer build wrote differently) goes to the deserializer, as every row did before.
internal sealed partial class KeyValueClientStore
{
    /// <summary>True when <paramref name="json"/> is a message row this store reads without the deserializer (tests keep the fast path live).</summary>
    internal static bool ReadsMessageRowByHand(byte[] json) => ReadMessageRow(json) is not null;

    private static MessageRow? ReadMessageRow(byte[] json)
    {
        try
        {
            return ReadMessageRowFast(json);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private static MessageRow? ReadMessageRowFast(byte[] json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }
        byte[]? id = null;
        string? sender = null, peer = null, text = null;
        uint senderDevice = 0;
        int direction = 0, status = 0;
        long sentAt = 0, order = 0;
        var shown = false;
        var seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader;
            reader.Read();
            if (name.ValueTextEquals("Id"u8))
            {
                id = reader.GetBytesFromBase64();
            }
            else if (name.ValueTextEquals("Sender"u8))
            {
                sender = reader.GetString();
            }
            else if (name.ValueTextEquals("SenderDevice"u8))
            {
                senderDevice = reader.GetUInt32();
            }
            else if (name.ValueTextEquals("Peer"u8))
            {
                peer = reader.GetString();
            }
            else if (name.ValueTextEquals("Direction"u8))
            {
                direction = reader.GetInt32();
            }
            else if (name.ValueTextEquals("Text"u8))
            {
                text = reader.GetString();
            }
            else if (name.ValueTextEquals("SentAt"u8))
            {
                sentAt = reader.GetInt64();
            }
            else if (name.ValueTextEquals("Status"u8))
            {
                status = reader.GetInt32();
            }
            else if (name.ValueTextEquals("Shown"u8))
            {
                shown = reader.GetBoolean();
            }
            else if (name.ValueTextEquals("Order"u8))
            {
                order = reader.GetInt64();
            }
            else
            {
                return null; // not the format this reader knows: the deserializer decides
            }
            seen++;
        }
        if (reader.TokenType != JsonTokenType.EndObject || seen != 10 || id is null || sender is null || peer is null || text is null)
        {
            return null;
        }
        return new MessageRow(id, sender, senderDevice, peer, (MessageDirection)direction, text, sentAt, (MessageStatus)status, shown, order);
    }
}
