namespace Parley.Crypto;

/// <summary>A message's authentication code did not match: the ciphertext was altered or was not meant for this session.</summary>
public class InvalidMacException : InvalidMessageException
{
    public InvalidMacException()
    {
    }

    public InvalidMacException(string message)
        : base(message)
    {
    }

    public InvalidMacException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
