using System.Reflection;
using Org.BouncyCastle.Math.EC.Rfc7748;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Parley.Crypto.Keys;

/// <summary>
/// Edwards25519 operations XEdDSA needs that BouncyCastle implements (constant time, table-driven) but
/// does not expose publicly: fixed-base scalar multiplication of an arbitrary scalar, reduction of a
/// 512-bit hash modulo the group order, and s = r + k·a mod L. Bound once by reflection; the package
/// version is pinned centrally and the XEdDSA vector tests fail loudly if a future version moves them.
/// </summary>
internal static class Ed25519Arithmetic
{
    private delegate void ScalarMultBaseEncodedFn(ReadOnlySpan<byte> scalar, Span<byte> encodedPoint);

    private delegate void Reduce512Fn(ReadOnlySpan<byte> wide, Span<byte> reduced);

    private delegate void CalculateSFn(ReadOnlySpan<byte> r, ReadOnlySpan<byte> k, ReadOnlySpan<byte> s, Span<byte> result);

    private static readonly ScalarMultBaseEncodedFn ScalarMultBaseEncodedImpl = Bind<ScalarMultBaseEncodedFn>(
        typeof(Ed25519), "ScalarMultBaseEncoded", typeof(ReadOnlySpan<byte>), typeof(Span<byte>));

    private static readonly Reduce512Fn Reduce512Impl = Bind<Reduce512Fn>(
        typeof(Ed25519).Assembly.GetType("Org.BouncyCastle.Math.EC.Rfc8032.Scalar25519", throwOnError: true)!,
        "Reduce512", typeof(ReadOnlySpan<byte>), typeof(Span<byte>));

    private static readonly CalculateSFn CalculateSImpl = Bind<CalculateSFn>(
        typeof(Ed25519), "CalculateS", typeof(ReadOnlySpan<byte>), typeof(ReadOnlySpan<byte>), typeof(ReadOnlySpan<byte>), typeof(Span<byte>));

    private static T Bind<T>(Type owner, string name, params Type[] parameters)
        where T : Delegate
    {
        var method = owner.GetMethod(name, BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static, binder: null, parameters, modifiers: null)
            ?? throw new InvalidOperationException($"BouncyCastle no longer provides {owner.Name}.{name}; XEdDSA cannot run.");
        return method.CreateDelegate<T>();
    }

    /// <summary>Encodes scalar·B (B the Ed25519 base point) in compressed Edwards form; scalar must be below 2^255.</summary>
    public static void ScalarMultBase(ReadOnlySpan<byte> scalar, Span<byte> encodedPoint) => ScalarMultBaseEncodedImpl(scalar, encodedPoint);

    /// <summary>Reduces a 64-byte little-endian integer modulo the group order L.</summary>
    public static void Reduce512(ReadOnlySpan<byte> wide, Span<byte> reduced) => Reduce512Impl(wide, reduced);

    /// <summary>result = (r + k·s) mod L, with r and k already reduced and s any 255-bit scalar.</summary>
    public static void MultiplyAdd(ReadOnlySpan<byte> r, ReadOnlySpan<byte> k, ReadOnlySpan<byte> s, Span<byte> result) => CalculateSImpl(r, k, s, result);

    /// <summary>
    /// Maps a Montgomery u-coordinate to the compressed Edwards point with y = (u − 1)/(u + 1) and the given
    /// sign bit. False when u = −1, which has no Edwards image.
    /// </summary>
    public static bool MontgomeryToEdwards(ReadOnlySpan<byte> u, int signBit, Span<byte> encodedPoint)
    {
        Span<byte> masked = stackalloc byte[32];
        u.CopyTo(masked);
        masked[31] &= 0x7F;

        var x = X25519Field.Create();
        var numerator = X25519Field.Create();
        var denominator = X25519Field.Create();
        X25519Field.Decode255(masked, x);
        X25519Field.Copy(x, 0, numerator, 0);
        X25519Field.SubOne(numerator);
        X25519Field.Copy(x, 0, denominator, 0);
        X25519Field.AddOne(denominator);
        X25519Field.Normalize(denominator);
        if (X25519Field.IsZeroVar(denominator))
        {
            return false;
        }

        X25519Field.InvVar(denominator, denominator);
        X25519Field.Mul(numerator, denominator, x);
        X25519Field.Normalize(x);
        X25519Field.Encode(x, encodedPoint);
        encodedPoint[31] = (byte)((encodedPoint[31] & 0x7F) | (signBit << 7));
        return true;
    }
}
