namespace Parley.Crypto;

/// <summary>There is no session (or no usable session state) with the remote address.</summary>
public class NoSessionException : CryptoException
{
    public NoSessionException()
    {
    }

    public NoSessionException(string message)
        : base(message)
    {
    }

    public NoSessionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
