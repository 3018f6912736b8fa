namespace Parley.Crypto.Protobuf;

/// <summary>Malformed protobuf input; callers translate it into the typed failure for what they were parsing.</summary>
internal sealed class ProtoFormatException : Exception
{
    public ProtoFormatException(string message)
        : base(message)
    {
    }
}
