namespace Parley.Crypto;

/// <summary>A message whose keys were already used was received again (a replay); its plaintext is never returned twice.</summary>
public class DuplicateMessageException : CryptoException
{
    public DuplicateMessageException()
    {
    }

    public DuplicateMessageException(string message)
        : base(message)
    {
    }

    public DuplicateMessageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
