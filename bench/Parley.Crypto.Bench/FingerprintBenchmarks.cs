using System.Text;
using BenchmarkDotNet.Attributes;
using Parley.Crypto.Fingerprints;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Bench;

/// <summary>One safety number: 2 × 5,200 SHA-512 rounds.</summary>
public class FingerprintBenchmarks
{
    private readonly FingerprintGenerator _generator = new();
    private readonly byte[] _aliceId = Encoding.UTF8.GetBytes("alice");
    private readonly byte[] _bobId = Encoding.UTF8.GetBytes("bob");
    private readonly IdentityKey _aliceKey = IdentityKeyPair.Generate().IdentityKey;
    private readonly IdentityKey _bobKey = IdentityKeyPair.Generate().IdentityKey;

    [Benchmark(Description = "fingerprint: safety number")]
    public string Create() => _generator.Create(FingerprintGenerator.CurrentVersion, _aliceId, _aliceKey, _bobId, _bobKey).Displayable.Digits;
}
