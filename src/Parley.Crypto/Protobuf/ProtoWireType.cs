namespace Parley.Crypto.Protobuf;

/// <summary>The protobuf wire types used by Signal's message and storage layouts.</summary>
internal enum ProtoWireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    Fixed32 = 5,
}
