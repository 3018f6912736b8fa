namespace Parley.Crypto.Protobuf;

/// <summary>Encoded sizes, so hot-path messages can be written into one exactly sized buffer.</summary>
internal static class ProtoSize
{
    public static int Varint(ulong value)
    {
        int n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }

        return n;
    }

    public static int Tag(int field) => Varint((uint)field << 3);

    public static int UInt32Field(int field, uint value) => Tag(field) + Varint(value);

    public static int BytesField(int field, int length) => Tag(field) + Varint((uint)length) + length;
}
