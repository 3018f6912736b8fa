using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Bench;

/// <summary>
/// XEdDSA on a 200-byte message. No stores involved, so the libsignal comparison measures the
/// curve arithmetic and not node's async store bridge.
/// </summary>
public class SignatureBenchmarks
{
    private readonly byte[] _message = RandomNumberGenerator.GetBytes(200);
    private readonly EcKeyPair _pair = EcKeyPair.Generate();
    private byte[] _signature = [];

    [GlobalSetup]
    public void Setup() => _signature = _pair.CalculateSignature(_message);

    [Benchmark(Description = "xeddsa: sign 200 B")]
    public byte[] Sign() => _pair.CalculateSignature(_message);

    [Benchmark(Description = "xeddsa: verify 200 B")]
    public bool Verify() => _pair.PublicKey.VerifySignature(_message, _signature);
}
