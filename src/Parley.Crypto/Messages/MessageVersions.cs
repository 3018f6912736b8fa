namespace Parley.Crypto.Messages;

/// <summary>Ciphertext versions: 3 = X3DH sessions, 4 = PQXDH sessions (libsignal's current version).</summary>
internal static class MessageVersions
{
    public const byte PreKyber = 3;
    public const byte Current = 4;

    /// <summary>High nibble: the session's version; low nibble: the newest version this code speaks, as libsignal writes it.</summary>
    public static byte VersionByte(byte version) => (byte)(((version & 0xF) << 4) | Current);

    public static void Check(byte version)
    {
        if (version < PreKyber)
        {
            throw new InvalidMessageException($"Legacy ciphertext version {version} is not supported.");
        }

        if (version > Current)
        {
            throw new InvalidMessageException($"Unrecognized ciphertext version {version}.");
        }
    }
}
