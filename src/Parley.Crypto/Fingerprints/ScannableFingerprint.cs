using System.Security.Cryptography;
using Google.Protobuf;

namespace Parley.Crypto.Fingerprints;

/// <summary>
/// The QR-code form of a safety number: libsignal's CombinedFingerprints protobuf
/// (version = 1, local = 2, remote = 3, each a LogicalFingerprint whose content = 1 holds the
/// first 32 bytes of that party's hash). Scanning the other side's code and calling
/// <see cref="Matches"/> proves both sides see the same identity keys.
/// </summary>
public sealed class ScannableFingerprint
{
    /// <summary>Bytes of each party's hash that the scannable form carries.</summary>
    public const int FingerprintLength = 32;

    private readonly byte[] _local;
    private readonly byte[] _remote;

    internal ScannableFingerprint(int version, ReadOnlySpan<byte> local, ReadOnlySpan<byte> remote)
    {
        Version = version;
        _local = local.ToArray();
        _remote = remote.ToArray();
    }

    /// <summary>The scannable format version.</summary>
    public int Version { get; }

    /// <summary>The protobuf bytes to put in the QR code, byte-identical to libsignal's.</summary>
    public byte[] Serialize()
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteUInt32((uint)Version);
        WriteLogical(output, 2, _local);
        WriteLogical(output, 3, _remote);
        output.Flush();
        return buffer.ToArray();
    }

    /// <summary>
    /// True when <paramref name="scanned"/> (the other side's QR code) names our remote hash as
    /// its local one and our local hash as its remote one; compared in constant time.
    /// </summary>
    /// <exception cref="FingerprintVersionMismatchException">The other side uses another version.</exception>
    /// <exception cref="FingerprintParsingException">The scanned bytes are not a combined fingerprint.</exception>
    public bool Matches(ReadOnlySpan<byte> scanned)
    {
        (uint theirVersion, byte[]? theirLocal, byte[]? theirRemote) = Parse(scanned);
        if (theirVersion != (uint)Version)
        {
            throw new FingerprintVersionMismatchException((int)theirVersion, Version);
        }

        if (theirLocal is null || theirRemote is null)
        {
            throw new FingerprintParsingException("The scanned fingerprint lacks a local or remote part.");
        }

        // Both comparisons run regardless of the first result, so timing says nothing about which half differs.
        bool sameRemote = CryptographicOperations.FixedTimeEquals(theirLocal, _remote);
        bool sameLocal = CryptographicOperations.FixedTimeEquals(theirRemote, _local);
        return sameRemote & sameLocal;
    }

    /// <summary>Reads a scannable fingerprint from its protobuf bytes.</summary>
    /// <exception cref="FingerprintParsingException">A field is missing or the bytes do not parse.</exception>
    public static ScannableFingerprint Deserialize(ReadOnlySpan<byte> serialized)
    {
        (uint version, byte[]? local, byte[]? remote) = Parse(serialized);
        if (local is null || remote is null)
        {
            throw new FingerprintParsingException("The fingerprint lacks a local or remote part.");
        }

        return new ScannableFingerprint((int)version, local, remote);
    }

    private static void WriteLogical(CodedOutputStream output, int field, byte[] content)
    {
        var bytes = ByteString.CopyFrom(content);
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteLength(CodedOutputStream.ComputeTagSize(1) + CodedOutputStream.ComputeBytesSize(bytes));
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(bytes);
    }

    private static (uint Version, byte[]? Local, byte[]? Remote) Parse(ReadOnlySpan<byte> serialized)
    {
        try
        {
            uint version = 0;
            byte[]? local = null;
            byte[]? remote = null;
            var input = new CodedInputStream(serialized.ToArray());
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                switch (tag)
                {
                    case 8:
                        version = input.ReadUInt32();
                        break;
                    case 18:
                        local = ParseLogical(input.ReadBytes());
                        break;
                    case 26:
                        remote = ParseLogical(input.ReadBytes());
                        break;
                    default:
                        input.SkipLastField();
                        break;
                }
            }

            return (version, local, remote);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new FingerprintParsingException("The fingerprint bytes are not a valid protobuf.", e);
        }
    }

    private static byte[]? ParseLogical(ByteString message)
    {
        byte[]? content = null;
        var input = message.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (tag == 10)
            {
                content = input.ReadBytes().ToByteArray();
            }
            else
            {
                input.SkipLastField();
            }
        }

        return content;
    }
}
