using Parley.Crypto.Keys;

namespace Parley.Crypto.Sessions;

/// <summary>The recipient's (Bob's) inputs to X3DH/PQXDH.</summary>
internal sealed record RecipientParameters(
    IdentityKeyPair OurIdentity,
    EcKeyPair OurSignedPreKey,
    EcKeyPair? OurOneTimePreKey,
    EcKeyPair OurRatchetKey,
    KemKeyPair? OurKyberPreKey,
    IdentityKey TheirIdentity,
    EcPublicKey TheirBaseKey,
    byte[]? TheirKyberCiphertext);
