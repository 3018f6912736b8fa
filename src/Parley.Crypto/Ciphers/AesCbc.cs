using System.Security.Cryptography;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;

namespace Parley.Crypto.Ciphers;

/// <summary>
/// AES-256-CBC under one key, the cipher of Signal message bodies, sender-key messages and
/// attachments. The platform's AES is used where it exists; the browser runtime has none
/// (System.Security.Cryptography.Aes throws PlatformNotSupportedException under browser-wasm), so
/// there BouncyCastle's AES engine is chained by hand. Both give the same bytes and both throw
/// <see cref="CryptographicException"/> for bad padding. Not thread-safe: one instance per user.
/// </summary>
internal sealed class AesCbc : IDisposable
{
    internal const int BlockSize = 16;

    // Set only by tests (ForceManaged), per async flow: the same code runs the browser's path on .NET.
    private static readonly AsyncLocal<bool> s_forceManaged = new();

    private readonly Aes? _platform;
    private readonly IBlockCipher? _encrypt;
    private readonly IBlockCipher? _decrypt;
    private byte[]? _key;

    /// <summary>Creates the cipher with <paramref name="key"/> (16, 24 or 32 bytes).</summary>
    public AesCbc(ReadOnlySpan<byte> key)
    {
        if (UsesManaged)
        {
            _encrypt = AesUtilities.CreateEngine();
            _decrypt = AesUtilities.CreateEngine();
        }
        else
        {
            _platform = CreatePlatformAes();
        }
        SetKey(key);
    }

    /// <summary>True where the managed (BouncyCastle) path is used: in the browser, or forced by a test.</summary>
    internal static bool UsesManaged => OperatingSystem.IsBrowser() || s_forceManaged.Value;

    /// <summary>Test switch: until disposed, ciphers created in this async flow use the browser's (managed) path.</summary>
    internal static IDisposable ForceManaged()
    {
        s_forceManaged.Value = true;
        return new ManagedScope();
    }

    /// <summary>Replaces the key (the same instance serves one key after another).</summary>
    public void SetKey(ReadOnlySpan<byte> key)
    {
        if (_platform is not null)
        {
            _platform.SetKey(key);
            return;
        }
        if (_key is not null)
        {
            CryptographicOperations.ZeroMemory(_key);
        }
        _key = key.ToArray();
        _encrypt!.Init(true, new KeyParameter(_key));
        _decrypt!.Init(false, new KeyParameter(_key));
    }

    /// <summary>Encrypts with PKCS#7 padding.</summary>
    public byte[] EncryptPkcs7(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> iv)
    {
        var output = new byte[(plaintext.Length / BlockSize + 1) * BlockSize];
        EncryptPkcs7(plaintext, iv, output);
        return output;
    }

    /// <summary>Encrypts with PKCS#7 padding into <paramref name="destination"/>; returns the bytes written.</summary>
    public int EncryptPkcs7(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> iv, Span<byte> destination)
    {
        if (_platform is not null)
        {
            return _platform.EncryptCbc(plaintext, iv, destination, PaddingMode.PKCS7);
        }
        int whole = plaintext.Length - plaintext.Length % BlockSize;
        Span<byte> last = stackalloc byte[BlockSize];
        plaintext[whole..].CopyTo(last);
        last[(plaintext.Length - whole)..].Fill((byte)(BlockSize - (plaintext.Length - whole)));
        Span<byte> chain = stackalloc byte[BlockSize];
        iv[..BlockSize].CopyTo(chain);
        ManagedEncrypt(plaintext[..whole], chain, destination);
        ManagedEncrypt(last, chain, destination[whole..]);
        return whole + BlockSize;
    }

    /// <summary>Encrypts whole blocks without padding; returns the bytes written.</summary>
    public int EncryptBlocks(ReadOnlySpan<byte> blocks, ReadOnlySpan<byte> iv, Span<byte> destination)
    {
        RequireWholeBlocks(blocks.Length);
        if (_platform is not null)
        {
            return _platform.EncryptCbc(blocks, iv, destination, PaddingMode.None);
        }
        Span<byte> chain = stackalloc byte[BlockSize];
        iv[..BlockSize].CopyTo(chain);
        ManagedEncrypt(blocks, chain, destination);
        return blocks.Length;
    }

    /// <summary>Decrypts and removes PKCS#7 padding; bad padding throws <see cref="CryptographicException"/>.</summary>
    public byte[] DecryptPkcs7(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> iv)
    {
        var output = new byte[ciphertext.Length];
        int written = DecryptPkcs7(ciphertext, iv, output);
        return written == output.Length ? output : output[..written];
    }

    /// <summary>Decrypts into <paramref name="destination"/> and removes PKCS#7 padding; returns the plaintext length.</summary>
    public int DecryptPkcs7(ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> iv, Span<byte> destination)
    {
        if (_platform is not null)
        {
            return _platform.DecryptCbc(ciphertext, iv, destination, PaddingMode.PKCS7);
        }
        if (ciphertext.IsEmpty)
        {
            throw new CryptographicException("The ciphertext is empty.");
        }
        RequireWholeBlocks(ciphertext.Length);
        int body = ciphertext.Length - BlockSize;
        Span<byte> chain = stackalloc byte[BlockSize];
        iv[..BlockSize].CopyTo(chain);
        ManagedDecrypt(ciphertext[..body], chain, destination);
        Span<byte> last = stackalloc byte[BlockSize];
        ManagedDecrypt(ciphertext[body..], chain, last);
        int pad = last[BlockSize - 1];
        bool valid = pad is > 0 and <= BlockSize;
        for (int i = BlockSize - Math.Clamp(pad, 1, BlockSize); i < BlockSize; i++)
        {
            valid &= last[i] == pad;
        }
        if (!valid)
        {
            CryptographicOperations.ZeroMemory(last);
            throw new CryptographicException("Padding is invalid and cannot be removed.");
        }
        last[..(BlockSize - pad)].CopyTo(destination[body..]);
        CryptographicOperations.ZeroMemory(last);
        return body + BlockSize - pad;
    }

    /// <summary>Decrypts whole blocks without padding; returns the bytes written.</summary>
    public int DecryptBlocks(ReadOnlySpan<byte> blocks, ReadOnlySpan<byte> iv, Span<byte> destination)
    {
        RequireWholeBlocks(blocks.Length);
        if (_platform is not null)
        {
            return _platform.DecryptCbc(blocks, iv, destination, PaddingMode.None);
        }
        Span<byte> chain = stackalloc byte[BlockSize];
        iv[..BlockSize].CopyTo(chain);
        ManagedDecrypt(blocks, chain, destination);
        return blocks.Length;
    }

    public void Dispose()
    {
        _platform?.Dispose();
        if (_key is not null)
        {
            CryptographicOperations.ZeroMemory(_key);
        }
    }

    private static Aes CreatePlatformAes()
    {
        if (OperatingSystem.IsBrowser())
        {
            throw new PlatformNotSupportedException("The browser has no platform AES.");
        }
        return Aes.Create();
    }

    private static void RequireWholeBlocks(int length)
    {
        if (length % BlockSize != 0)
        {
            throw new CryptographicException("The input is not a whole number of AES blocks.");
        }
    }

    // CBC by hand: c[i] = E(p[i] xor c[i-1]); chain carries c[i-1] across calls.
    private void ManagedEncrypt(ReadOnlySpan<byte> input, Span<byte> chain, Span<byte> output)
    {
        Span<byte> block = stackalloc byte[BlockSize];
        for (int offset = 0; offset < input.Length; offset += BlockSize)
        {
            for (int i = 0; i < BlockSize; i++)
            {
                block[i] = (byte)(input[offset + i] ^ chain[i]);
            }
            _encrypt!.ProcessBlock(block, output.Slice(offset, BlockSize));
            output.Slice(offset, BlockSize).CopyTo(chain);
        }
        CryptographicOperations.ZeroMemory(block);
    }

    // p[i] = D(c[i]) xor c[i-1]; the input block is saved first, since output may overlap it.
    private void ManagedDecrypt(ReadOnlySpan<byte> input, Span<byte> chain, Span<byte> output)
    {
        Span<byte> cipher = stackalloc byte[BlockSize];
        Span<byte> plain = stackalloc byte[BlockSize];
        for (int offset = 0; offset < input.Length; offset += BlockSize)
        {
            input.Slice(offset, BlockSize).CopyTo(cipher);
            _decrypt!.ProcessBlock(cipher, plain);
            for (int i = 0; i < BlockSize; i++)
            {
                output[offset + i] = (byte)(plain[i] ^ chain[i]);
            }
            cipher.CopyTo(chain);
        }
        CryptographicOperations.ZeroMemory(plain);
    }

    private sealed class ManagedScope : IDisposable
    {
        public void Dispose() => s_forceManaged.Value = false;
    }
}
