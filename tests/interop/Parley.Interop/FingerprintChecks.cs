using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Parley.Crypto.Fingerprints;
using Parley.Crypto.Keys;

namespace Parley.Interop;

/// <summary>Safety numbers: identical digits and scannable bytes, and each side accepts the other's scan.</summary>
internal static class FingerprintChecks
{
    private const int Pairs = 20;

    public static async Task RunAsync(CheckRunner runner, Oracle oracle)
    {
        var generator = new FingerprintGenerator();

        await runner.RunAsync($"fingerprint: {Pairs} random pairs give identical numbers and scannable bytes, scans cross-match", async () =>
        {
            for (int i = 0; i < Pairs; i++)
            {
                byte[] aliceId = Encoding.UTF8.GetBytes($"alice-{i}-{Guid.NewGuid()}");
                byte[] bobId = RandomNumberGenerator.GetBytes(16 + i);
                IdentityKey aliceKey = IdentityKeyPair.Generate().IdentityKey;
                IdentityKey bobKey = IdentityKeyPair.Generate().IdentityKey;

                Fingerprint ours = generator.Create(FingerprintGenerator.CurrentVersion, aliceId, aliceKey, bobId, bobKey);
                Fingerprint bobsOwn = generator.Create(FingerprintGenerator.CurrentVersion, bobId, bobKey, aliceId, aliceKey);
                JsonObject theirs = await Libsignal(oracle, aliceId, aliceKey, bobId, bobKey, bobsOwn.Scannable.Serialize());
                JsonObject theirBob = await Libsignal(oracle, bobId, bobKey, aliceId, aliceKey, null);

                CheckFailedException.Unless(ours.Displayable.Digits == theirs["displayable"]!.GetValue<string>(), $"pair {i}: displayable numbers differ");
                CheckFailedException.UnlessEqual(Oracle.Bytes(theirs, "scannable"), ours.Scannable.Serialize(), $"pair {i}: scannable bytes");
                CheckFailedException.Unless(theirs["matches"]!.GetValue<bool>(), $"pair {i}: libsignal did not match Parley's scan");
                CheckFailedException.Unless(ours.Scannable.Matches(Oracle.Bytes(theirBob, "scannable")), $"pair {i}: Parley did not match libsignal's scan");
            }
        });

        await runner.RunAsync("fingerprint: a substituted identity key fails the scan on both sides", async () =>
        {
            byte[] aliceId = Encoding.UTF8.GetBytes("alice");
            byte[] bobId = Encoding.UTF8.GetBytes("bob");
            IdentityKey aliceKey = IdentityKeyPair.Generate().IdentityKey;
            IdentityKey bobKey = IdentityKeyPair.Generate().IdentityKey;
            IdentityKey mitmKey = IdentityKeyPair.Generate().IdentityKey;

            Fingerprint alice = generator.Create(FingerprintGenerator.CurrentVersion, aliceId, aliceKey, bobId, mitmKey);
            JsonObject bob = await Libsignal(oracle, bobId, bobKey, aliceId, aliceKey, alice.Scannable.Serialize());

            CheckFailedException.Unless(!bob["matches"]!.GetValue<bool>(), "libsignal matched a scan made with a substituted key");
            CheckFailedException.Unless(!alice.Scannable.Matches(Oracle.Bytes(bob, "scannable")), "Parley matched a scan made with a substituted key");
            CheckFailedException.Unless(alice.Displayable.Digits != bob["displayable"]!.GetValue<string>(), "numbers equal despite a substituted key");
        });
    }

    private static Task<JsonObject> Libsignal(Oracle oracle, byte[] localId, IdentityKey localKey, byte[] remoteId, IdentityKey remoteKey, byte[]? scanned)
    {
        var request = new JsonObject
        {
            ["iterations"] = FingerprintGenerator.DefaultIterations,
            ["version"] = FingerprintGenerator.CurrentVersion,
            ["localId"] = Oracle.B64(localId),
            ["localKey"] = Oracle.B64(localKey.Serialize()),
            ["remoteId"] = Oracle.B64(remoteId),
            ["remoteKey"] = Oracle.B64(remoteKey.Serialize()),
        };
        if (scanned is not null)
        {
            request["scanned"] = Oracle.B64(scanned);
        }

        return oracle.CallAsync("fingerprint", request);
    }
}
