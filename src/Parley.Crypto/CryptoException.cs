namespace Parley.Crypto;

/// <summary>Base of every failure raised by Parley.Crypto; callers can catch this one type to handle all protocol errors.</summary>
public class CryptoException : Exception
{
    public CryptoException()
    {
    }

    public CryptoException(string message)
        : base(message)
    {
    }

    public CryptoException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
