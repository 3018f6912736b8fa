using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Parley.Crypto.Keys;

namespace Parley.Interop;

/// <summary>Curve25519 keys, X25519 agreement and XEdDSA signatures against libsignal, both directions.</summary>
internal static class SignatureChecks
{
    private const int Rounds = 100;

    public static async Task RunAsync(CheckRunner runner, Oracle oracle)
    {
        await runner.RunAsync($"xeddsa: {Rounds} Parley signatures verify in libsignal, tampered ones do not", async () =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                EcKeyPair pair = EcKeyPair.Generate();
                byte[] message = RandomNumberGenerator.GetBytes(i * 3);
                byte[] signature = pair.CalculateSignature(message);
                CheckFailedException.Unless(await VerifyInLibsignal(oracle, pair.PublicKey, message, signature), $"round {i}: libsignal rejected a Parley signature");
                signature[i % 64] ^= 0x10;
                CheckFailedException.Unless(!await VerifyInLibsignal(oracle, pair.PublicKey, message, signature), $"round {i}: libsignal accepted a tampered signature");
            }
        });

        await runner.RunAsync($"xeddsa: {Rounds} libsignal signatures verify in Parley, tampered ones do not", async () =>
        {
            for (int i = 0; i < Rounds; i++)
            {
                JsonObject keys = await oracle.CallAsync("keys.generate");
                byte[] message = RandomNumberGenerator.GetBytes(i * 3);
                JsonObject signed = await oracle.CallAsync("sign", new JsonObject { ["private"] = keys["private"]!.GetValue<string>(), ["message"] = Oracle.B64(message) });
                byte[] signature = Oracle.Bytes(signed, "signature");
                var publicKey = EcPublicKey.Deserialize(Oracle.Bytes(keys, "public"));
                CheckFailedException.Unless(publicKey.VerifySignature(message, signature), $"round {i}: Parley rejected a libsignal signature");
                byte[] otherMessage = [.. message, 0x00];
                CheckFailedException.Unless(!publicKey.VerifySignature(otherMessage, signature), $"round {i}: Parley accepted a signature over another message");
            }
        });

        await runner.RunAsync("keys: public keys derived alike and X25519 agreement equal both ways", async () =>
        {
            for (int i = 0; i < 20; i++)
            {
                EcKeyPair ours = EcKeyPair.Generate();
                JsonObject derived = await oracle.CallAsync("keys.public", new JsonObject { ["private"] = Oracle.B64(ours.PrivateKey.Serialize()) });
                CheckFailedException.UnlessEqual(ours.PublicKey.Serialize(), Oracle.Bytes(derived, "public"), "public keys");

                JsonObject theirs = await oracle.CallAsync("keys.generate");
                byte[] ourShared = ours.CalculateAgreement(EcPublicKey.Deserialize(Oracle.Bytes(theirs, "public")));
                JsonObject agreed = await oracle.CallAsync("keys.agree", new JsonObject
                {
                    ["private"] = theirs["private"]!.GetValue<string>(),
                    ["public"] = Oracle.B64(ours.PublicKey.Serialize()),
                });
                CheckFailedException.UnlessEqual(ourShared, Oracle.Bytes(agreed, "shared"), "shared secrets");
            }
        });
    }

    private static async Task<bool> VerifyInLibsignal(Oracle oracle, EcPublicKey key, byte[] message, byte[] signature)
    {
        JsonObject result = await oracle.CallAsync("verify", new JsonObject
        {
            ["public"] = Oracle.B64(key.Serialize()),
            ["message"] = Oracle.B64(message),
            ["signature"] = Oracle.B64(signature),
        });
        return result["valid"]!.GetValue<bool>();
    }
}
