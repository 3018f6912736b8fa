namespace Parley.Crypto.Keys;

/// <summary>Reads and checks the KEM type byte in front of serialized keys and ciphertexts.</summary>
internal static class KemKeyTypes
{
    public static KemKeyType Parse(ReadOnlySpan<byte> serialized)
    {
        if (serialized.IsEmpty)
        {
            throw new InvalidKeyException("KEM key has no type byte.");
        }

        return serialized[0] switch
        {
            (byte)KemKeyType.Kyber1024 => KemKeyType.Kyber1024,
            (byte)KemKeyType.MlKem1024 => KemKeyType.MlKem1024,
            var t => throw new InvalidKeyException($"Unsupported KEM key type 0x{t:x2}."),
        };
    }
}
