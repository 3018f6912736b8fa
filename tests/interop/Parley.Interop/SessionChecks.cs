using System.Text.Json.Nodes;
using Parley.Crypto;
using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Crypto.PreKeys;
using Parley.Crypto.Sessions;
using Parley.Crypto.Stores;

namespace Parley.Interop;

/// <summary>
/// 1:1 sessions between Parley and libsignal: X3DH against libsignal 0.72.1 (the last release that
/// starts one) and PQXDH against the newest, each side starting from the other's bundle, followed
/// by a long conversation with many ratchet turns, reordering and loss.
/// </summary>
internal static class SessionChecks
{
    private const int Messages = 1000;

    public static async Task RunAsync(CheckRunner runner, Oracle oracle)
    {
        var modes = new (string Mode, string Lib, bool Kyber, byte Version, string? KnownGap)[]
        {
            ("X3DH", "legacy", false, 3, null),
            ("PQXDH", "legacy", true, 4, null),
            ("PQXDH", "pqxdh", true, 4, null),
            ("PQXDH", "current", true, 4, SpqrGap),
        };
        for (int index = 0; index < modes.Length; index++)
        {
            (string mode, string lib, bool kyber, byte version, string? gap) = modes[index];
            int seed = index;
            await runner.RunAsync($"{mode}: Parley starts a session from a libsignal {Library(lib)} bundle, {Messages} messages both ways", gap, async () =>
            {
                string theirName = $"{lib}-{mode}-a";
                var parley = new ProtocolAddress("parley-a", 1);
                await oracle.CallAsync("party.create", new JsonObject { ["party"] = theirName, ["lib"] = lib, ["device"] = 1, ["registrationId"] = 4001 });
                JsonObject bundle = await oracle.CallAsync("party.bundle", new JsonObject
                {
                    ["party"] = theirName, ["preKeyId"] = 31, ["signedPreKeyId"] = 32, ["kyberPreKeyId"] = kyber ? 33 : null,
                });

                var store = new InMemoryProtocolStore(IdentityKeyPair.Generate(), 1001);
                var remote = new ProtocolAddress(theirName, 1);
                new SessionBuilder(store, remote).ProcessPreKeyBundle(ToBundle(bundle));
                var cipher = new SessionCipher(store, remote);

                Endpoint ours = ParleyEndpoint(cipher, version);
                Endpoint theirs = LibsignalEndpoint(oracle, theirName, parley);
                Conversation.Outcome outcome = await Conversation.RunAsync(ours, theirs, Messages, seed: 10 + seed);
                await ExpectReplayRefused(outcome);
                Console.WriteLine($"     {outcome.Sent} sent, {outcome.Delivered} delivered, {outcome.Dropped} dropped, {outcome.Delayed} delayed a turn, {outcome.Turns} turns");
            });

            await runner.RunAsync($"{mode}: libsignal {Library(lib)} starts a session from a Parley bundle, {Messages} messages both ways", gap, async () =>
            {
                string theirName = $"{lib}-{mode}-b";
                var parley = new ProtocolAddress("parley-b", 1);
                await oracle.CallAsync("party.create", new JsonObject { ["party"] = theirName, ["lib"] = lib, ["device"] = 1, ["registrationId"] = 4002 });

                var identity = IdentityKeyPair.Generate();
                var store = new InMemoryProtocolStore(identity, 1002);
                JsonObject bundle = MakeBundle(store, identity, registrationId: 1002, deviceId: 1, kyber);
                await oracle.CallAsync("party.process", new JsonObject { ["party"] = theirName, ["remoteName"] = parley.Name, ["remoteDevice"] = 1, ["bundle"] = bundle });
                var cipher = new SessionCipher(store, new ProtocolAddress(theirName, 1));

                Endpoint ours = ParleyEndpoint(cipher, version);
                Endpoint theirs = LibsignalEndpoint(oracle, theirName, parley);
                Conversation.Outcome outcome = await Conversation.RunAsync(theirs, ours, Messages, seed: 20 + seed);
                await ExpectReplayRefused(outcome);
                CheckFailedException.Unless(!store.ContainsPreKey(41), "the one-time prekey was not consumed");
                Console.WriteLine($"     {outcome.Sent} sent, {outcome.Delivered} delivered, {outcome.Dropped} dropped, {outcome.Delayed} delayed a turn, {outcome.Turns} turns");
            });
        }
    }

    // libsignal forces SPQR (the sparse post-quantum ratchet mixed into every message key) from
    // v0.92 on; a peer without it cannot exchange 1:1 messages with those releases.
    private const string SpqrGap = "newest libsignal requires SPQR (triple ratchet), which Parley.Crypto does not implement";

    private static string Library(string lib) => lib switch
    {
        "legacy" => "0.72.1",
        "pqxdh" => "0.90.0",
        _ => "newest",
    };

    private static Endpoint ParleyEndpoint(SessionCipher cipher, byte expectedVersion) => new(
        "Parley",
        plaintext =>
        {
            CiphertextMessage message = cipher.Encrypt(plaintext);
            byte[] body = message.Serialize();
            CheckFailedException.Unless(body[0] >> 4 == expectedVersion, $"Parley sent message version {body[0] >> 4}, expected {expectedVersion}");
            return Task.FromResult(((int)message.Type, body));
        },
        (type, body) => Task.FromResult(type == (int)CiphertextMessageType.PreKey
            ? cipher.Decrypt(PreKeySignalMessage.Deserialize(body))
            : cipher.Decrypt(SignalMessage.Deserialize(body))));

    private static Endpoint LibsignalEndpoint(Oracle oracle, string party, ProtocolAddress parley) => new(
        "libsignal",
        async plaintext =>
        {
            JsonObject result = await oracle.CallAsync("party.encrypt", new JsonObject
            {
                ["party"] = party, ["remoteName"] = parley.Name, ["remoteDevice"] = (int)parley.DeviceId, ["plaintext"] = Oracle.B64(plaintext),
            });
            return (result["type"]!.GetValue<int>(), Oracle.Bytes(result, "body"));
        },
        async (type, body) =>
        {
            JsonObject result = await oracle.CallAsync("party.decrypt", new JsonObject
            {
                ["party"] = party, ["remoteName"] = parley.Name, ["remoteDevice"] = (int)parley.DeviceId, ["type"] = type, ["body"] = Oracle.B64(body),
            });
            return Oracle.Bytes(result, "plaintext");
        });

    private static async Task ExpectReplayRefused(Conversation.Outcome outcome)
    {
        (Endpoint receiver, int type, byte[] body) = outcome.Replayable;
        try
        {
            await receiver.Decrypt(type, body);
        }
        catch (Exception e) when (e is OracleException or DuplicateMessageException)
        {
            return;
        }

        throw new CheckFailedException($"{receiver.Name} accepted a replayed message");
    }

    private static PreKeyBundle ToBundle(JsonObject b)
    {
        bool hasKyber = b["kyberPreKeyId"] is not null;
        return new PreKeyBundle(
            b["registrationId"]!.GetValue<uint>(),
            b["deviceId"]!.GetValue<uint>(),
            b["preKeyId"]?.GetValue<uint>(),
            b["preKey"] is null ? null : EcPublicKey.Deserialize(Oracle.Bytes(b, "preKey")),
            b["signedPreKeyId"]!.GetValue<uint>(),
            EcPublicKey.Deserialize(Oracle.Bytes(b, "signedPreKey")),
            Oracle.Bytes(b, "signedPreKeySignature"),
            IdentityKey.Deserialize(Oracle.Bytes(b, "identityKey")),
            hasKyber ? b["kyberPreKeyId"]!.GetValue<uint>() : null,
            hasKyber ? KemPublicKey.Deserialize(Oracle.Bytes(b, "kyberPreKey")) : null,
            hasKyber ? Oracle.Bytes(b, "kyberPreKeySignature") : null);
    }

    private static JsonObject MakeBundle(InMemoryProtocolStore store, IdentityKeyPair identity, uint registrationId, uint deviceId, bool kyber)
    {
        PreKeyRecord preKey = PreKeyRecord.Generate(41);
        SignedPreKeyRecord signedPreKey = SignedPreKeyRecord.Generate(42, identity, DateTimeOffset.UtcNow);
        store.StorePreKey(preKey.Id, preKey);
        store.StoreSignedPreKey(signedPreKey.Id, signedPreKey);
        var bundle = new JsonObject
        {
            ["registrationId"] = registrationId,
            ["deviceId"] = deviceId,
            ["preKeyId"] = preKey.Id,
            ["preKey"] = Oracle.B64(preKey.KeyPair.PublicKey.Serialize()),
            ["signedPreKeyId"] = signedPreKey.Id,
            ["signedPreKey"] = Oracle.B64(signedPreKey.KeyPair.PublicKey.Serialize()),
            ["signedPreKeySignature"] = Oracle.B64(signedPreKey.Signature),
            ["identityKey"] = Oracle.B64(identity.IdentityKey.Serialize()),
        };
        if (kyber)
        {
            KyberPreKeyRecord kyberPreKey = KyberPreKeyRecord.Generate(43, identity, DateTimeOffset.UtcNow);
            store.StoreKyberPreKey(kyberPreKey.Id, kyberPreKey);
            bundle["kyberPreKeyId"] = kyberPreKey.Id;
            bundle["kyberPreKey"] = Oracle.B64(kyberPreKey.KeyPair.PublicKey.Serialize());
            bundle["kyberPreKeySignature"] = Oracle.B64(kyberPreKey.Signature);
        }

        return bundle;
    }
}
