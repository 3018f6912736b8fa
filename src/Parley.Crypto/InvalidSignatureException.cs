namespace Parley.Crypto;

/// <summary>An XEdDSA signature over a prekey or message did not verify under the signer's identity key.</summary>
public class InvalidSignatureException : CryptoException
{
    public InvalidSignatureException()
    {
    }

    public InvalidSignatureException(string message)
        : base(message)
    {
    }

    public InvalidSignatureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
