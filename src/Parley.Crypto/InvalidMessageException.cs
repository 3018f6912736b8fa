namespace Parley.Crypto;

/// <summary>A ciphertext message was malformed, of an unsupported version, or could not be decrypted by any known session state.</summary>
public class InvalidMessageException : CryptoException
{
    public InvalidMessageException()
    {
    }

    public InvalidMessageException(string message)
        : base(message)
    {
    }

    public InvalidMessageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
