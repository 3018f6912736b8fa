using System.Security.Cryptography;
using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Crypto.Ratchet;

namespace Parley.Crypto.Sessions;

/// <summary>
/// X3DH and PQXDH key agreement as libsignal: master secret = 0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4] [‖ KEM secret],
/// HKDF-SHA256 (no salt) with info "WhisperText" (X3DH, version 3) or
/// "WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024" (PQXDH, version 4) → root key ‖ first chain key.
/// </summary>
internal static class RatchetingSession
{
    private static readonly byte[] X3dhInfo = "WhisperText"u8.ToArray();
    private static readonly byte[] PqxdhInfo = "WhisperText_X25519_SHA-256_CRYSTALS-KYBER-1024"u8.ToArray();
    private const int MaxSecretLength = 32 * 6;

    /// <summary>Alice's side; returns the new state and, for PQXDH, the KEM ciphertext to send.</summary>
    public static (SessionState State, byte[]? KyberCiphertext) InitializeAsInitiator(InitiatorParameters p, EcKeyPair? sendingRatchetKey = null)
    {
        Span<byte> secrets = stackalloc byte[MaxSecretLength];
        int length = 0;
        byte[]? kyberCiphertext = null;
        try
        {
            secrets[..32].Fill(0xFF);
            length = 32;
            p.OurIdentity.PrivateKey.CalculateAgreement(p.TheirSignedPreKey, secrets.Slice(length, 32));
            length += 32;
            p.OurBaseKey.PrivateKey.CalculateAgreement(p.TheirIdentity.PublicKey, secrets.Slice(length, 32));
            length += 32;
            p.OurBaseKey.PrivateKey.CalculateAgreement(p.TheirSignedPreKey, secrets.Slice(length, 32));
            length += 32;
            if (p.TheirOneTimePreKey is not null)
            {
                p.OurBaseKey.PrivateKey.CalculateAgreement(p.TheirOneTimePreKey, secrets.Slice(length, 32));
                length += 32;
            }

            if (p.TheirKyberPreKey is not null)
            {
                var encapsulation = p.TheirKyberPreKey.Encapsulate();
                encapsulation.SharedSecret.CopyTo(secrets[length..]);
                length += encapsulation.SharedSecret.Length;
                CryptographicOperations.ZeroMemory(encapsulation.SharedSecret);
                kyberCiphertext = encapsulation.Ciphertext;
            }

            bool pq = p.TheirKyberPreKey is not null;
            var (rootKey, chainKey) = DeriveInitialKeys(pq, secrets[..length]);

            var ratchetKey = sendingRatchetKey ?? EcKeyPair.Generate();
            var (sendingRoot, sendingChain) = Ratchet.RootKey.CreateChain(rootKey, p.TheirRatchetKey, ratchetKey.PrivateKey);
            CryptographicOperations.ZeroMemory(rootKey);

            var state = new SessionState(
                pq ? MessageVersions.Current : MessageVersions.PreKyber,
                p.OurIdentity.IdentityKey,
                p.TheirIdentity,
                sendingRoot,
                p.OurBaseKey.PublicKey.Serialize());
            state.AddReceiverChain(p.TheirRatchetKey, chainKey);
            state.Sender = new SenderChain(ratchetKey, sendingChain);
            return (state, kyberCiphertext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secrets);
        }
    }

    /// <summary>Bob's side.</summary>
    public static SessionState InitializeAsRecipient(RecipientParameters p)
    {
        if ((p.OurKyberPreKey is null) != (p.TheirKyberCiphertext is null))
        {
            throw new InvalidMessageException("Kyber prekey and ciphertext must both be present or both absent.");
        }

        // As current libsignal: a base key outside the prime-order subgroup (or non-canonically encoded) is refused.
        if (!p.TheirBaseKey.IsCanonical())
        {
            throw new InvalidMessageException("Incoming base key is not a canonical prime-order point.");
        }

        Span<byte> secrets = stackalloc byte[MaxSecretLength];
        int length = 0;
        try
        {
            secrets[..32].Fill(0xFF);
            length = 32;
            p.OurSignedPreKey.PrivateKey.CalculateAgreement(p.TheirIdentity.PublicKey, secrets.Slice(length, 32));
            length += 32;
            p.OurIdentity.PrivateKey.CalculateAgreement(p.TheirBaseKey, secrets.Slice(length, 32));
            length += 32;
            p.OurSignedPreKey.PrivateKey.CalculateAgreement(p.TheirBaseKey, secrets.Slice(length, 32));
            length += 32;
            if (p.OurOneTimePreKey is not null)
            {
                p.OurOneTimePreKey.PrivateKey.CalculateAgreement(p.TheirBaseKey, secrets.Slice(length, 32));
                length += 32;
            }

            if (p.OurKyberPreKey is not null)
            {
                var shared = p.OurKyberPreKey.SecretKey.Decapsulate(p.TheirKyberCiphertext);
                shared.CopyTo(secrets[length..]);
                length += shared.Length;
                CryptographicOperations.ZeroMemory(shared);
            }

            bool pq = p.OurKyberPreKey is not null;
            var (rootKey, chainKey) = DeriveInitialKeys(pq, secrets[..length]);
            return new SessionState(
                pq ? MessageVersions.Current : MessageVersions.PreKyber,
                p.OurIdentity.IdentityKey,
                p.TheirIdentity,
                rootKey,
                p.TheirBaseKey.Serialize())
            {
                Sender = new SenderChain(p.OurRatchetKey, chainKey),
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secrets);
        }
    }

    private static (byte[] RootKey, ChainKey ChainKey) DeriveInitialKeys(bool postQuantum, ReadOnlySpan<byte> secrets)
    {
        Span<byte> okm = stackalloc byte[64];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, secrets, okm, ReadOnlySpan<byte>.Empty, postQuantum ? PqxdhInfo : X3dhInfo);
        var result = (okm[..32].ToArray(), new ChainKey(okm[32..].ToArray(), 0));
        CryptographicOperations.ZeroMemory(okm);
        return result;
    }
}
