using Parley.Crypto.Keys;

namespace Parley.Crypto.Sessions;

/// <summary>The initiator's (Alice's) inputs to X3DH/PQXDH.</summary>
internal sealed record InitiatorParameters(
    IdentityKeyPair OurIdentity,
    EcKeyPair OurBaseKey,
    IdentityKey TheirIdentity,
    EcPublicKey TheirSignedPreKey,
    EcPublicKey? TheirOneTimePreKey,
    EcPublicKey TheirRatchetKey,
    KemPublicKey? TheirKyberPreKey);
