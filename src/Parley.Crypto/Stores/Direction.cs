namespace Parley.Crypto.Stores;

/// <summary>Whether an identity is being checked before sending to it or after receiving from it.</summary>
public enum Direction
{
    /// <summary>About to encrypt to the identity.</summary>
    Sending,

    /// <summary>Just received from the identity.</summary>
    Receiving,
}
