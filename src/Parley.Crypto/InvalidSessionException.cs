namespace Parley.Crypto;

/// <summary>A stored session record is corrupt or incomplete and cannot be used.</summary>
public class InvalidSessionException : CryptoException
{
    public InvalidSessionException()
    {
    }

    public InvalidSessionException(string message)
        : base(message)
    {
    }

    public InvalidSessionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
