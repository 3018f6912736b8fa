namespace Parley.Crypto;

/// <summary>The remote identity key is not trusted by the identity store for this address and direction; nothing was encrypted or decrypted.</summary>
public class UntrustedIdentityException : CryptoException
{
    public UntrustedIdentityException()
    {
    }

    public UntrustedIdentityException(string message)
        : base(message)
    {
    }

    public UntrustedIdentityException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception naming the address whose identity was refused.</summary>
    public UntrustedIdentityException(ProtocolAddress address)
        : base($"Untrusted identity for {address}")
    {
        Address = address;
    }

    /// <summary>The remote address whose identity key was refused, when known.</summary>
    public ProtocolAddress? Address { get; }
}
