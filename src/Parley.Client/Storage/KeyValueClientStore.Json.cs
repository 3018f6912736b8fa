using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Parley.Client.Storage;

// The rows' JSON, generated at build time: in the browser (interpreted WebAssembly) reflection-based
// serialization made reading a store of thousands of messages at start the largest part of a reload.
// The same shape as before (property names as declared), so stores written earlier read the same.
internal sealed partial class KeyValueClientStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(RowJson.Default, new DefaultJsonTypeInfoResolver()),
    };

    [JsonSourceGenerationOptions(JsonSerializerDefaults.General)]
    [JsonSerializable(typeof(MessageRow))]
    [JsonSerializable(typeof(OutboxRow))]
    [JsonSerializable(typeof(SessionRow))]
    [JsonSerializable(typeof(DeviceIdentityRow))]
    [JsonSerializable(typeof(PeerIdentityRow))]
    [JsonSerializable(typeof(RecentSendRow))]
    [JsonSerializable(typeof(SentDeviceRow))]
    [JsonSerializable(typeof(ResendTargetRow))]
    [JsonSerializable(typeof(SignedPreKeyRow))]
    [JsonSerializable(typeof(KyberPreKeyRow))]
    [JsonSerializable(typeof(AttachmentRow))]
    [JsonSerializable(typeof(UploadRow))]
    [JsonSerializable(typeof(string))]
    [JsonSerializable(typeof(byte[]))]
    [JsonSerializable(typeof(uint[]))]
    private sealed partial class RowJson : JsonSerializerContext;
}
