using System.Security.Cryptography;
using Parley.Crypto.Ciphers;

namespace Parley.Crypto.Groups;

/// <summary>
/// Encrypts our group messages and decrypts those of one sender with Sender Keys, as libsignal
/// does: one AES-256-CBC encryption per message for the whole group, signed by the sender.
/// </summary>
public sealed class GroupCipher
{
    private readonly ISenderKeyStore _store;
    private readonly ProtocolAddress _sender;

    /// <summary>
    /// Creates a cipher for the chain of <paramref name="sender"/>: our own address to encrypt,
    /// the remote device's address to decrypt its messages.
    /// </summary>
    public GroupCipher(ISenderKeyStore store, ProtocolAddress sender)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(sender);
        _store = store;
        _sender = sender;
    }

    /// <summary>Encrypts and signs one group message and advances our chain.</summary>
    /// <exception cref="NoSessionException">No chain exists yet; call <see cref="GroupSessionBuilder.Create"/> first.</exception>
    public SenderKeyMessage Encrypt(Guid distributionId, ReadOnlySpan<byte> plaintext)
    {
        SenderKeyRecord record = _store.LoadSenderKey(_sender, distributionId)
            ?? throw new NoSessionException($"No sender key for distribution {distributionId}.");
        SenderKeyState state = record.Current ?? throw new NoSessionException($"No sender key for distribution {distributionId}.");
        if (state.SigningPrivateKey is null)
        {
            throw new NoSessionException($"The sender key for distribution {distributionId} is not ours to send with.");
        }

        SenderMessageKey key = state.ChainKey.MessageKey();
        byte[] ciphertext;
        using (var aes = new AesCbc(key.CipherKey))
        {
            ciphertext = aes.EncryptPkcs7(plaintext, key.Iv);
        }

        key.Zero();

        SenderKeyMessage message = SenderKeyMessage.Create(distributionId, state.ChainId, key.Iteration, ciphertext, state.SigningPrivateKey);
        state.ChainKey = state.ChainKey.Next();
        _store.StoreSenderKey(_sender, distributionId, record);
        return message;
    }

    /// <summary>
    /// Checks the signature and decrypts one group message from the sender; the chain state is
    /// stored only when decryption succeeded.
    /// </summary>
    /// <exception cref="NoSessionException">No chain for this sender, distribution and chain id.</exception>
    /// <exception cref="InvalidSignatureException">The signature does not verify under the chain's signing key.</exception>
    /// <exception cref="DuplicateMessageException">This iteration was already decrypted.</exception>
    /// <exception cref="InvalidMessageException">Malformed, another version, too far ahead, or undecryptable.</exception>
    public byte[] Decrypt(ReadOnlySpan<byte> senderKeyMessage)
    {
        SenderKeyMessage message = SenderKeyMessage.Deserialize(senderKeyMessage);
        SenderKeyRecord record = _store.LoadSenderKey(_sender, message.DistributionId)
            ?? throw new NoSessionException($"No sender key from {_sender} for distribution {message.DistributionId}.");
        SenderKeyState state = record.StateFor(message.ChainId)
            ?? throw new NoSessionException($"No sender key from {_sender} for distribution {message.DistributionId}, chain {message.ChainId}.");
        if (state.MessageVersion != SenderKeyMessage.MessageVersion)
        {
            throw new InvalidMessageException($"Sender key message version {SenderKeyMessage.MessageVersion} does not match the chain's {state.MessageVersion}.");
        }

        if (!message.VerifySignature(state.SigningKey))
        {
            throw new InvalidSignatureException("Sender key message signature does not verify.");
        }

        SenderMessageKey key = state.MessageKeyFor(message.Iteration);
        byte[] plaintext;
        try
        {
            using var aes = new AesCbc(key.CipherKey);
            plaintext = aes.DecryptPkcs7(message.Ciphertext.Span, key.Iv);
        }
        catch (CryptographicException e)
        {
            throw new InvalidMessageException("Sender key message does not decrypt.", e);
        }
        finally
        {
            key.Zero();
        }

        _store.StoreSenderKey(_sender, message.DistributionId, record);
        return plaintext;
    }
}
