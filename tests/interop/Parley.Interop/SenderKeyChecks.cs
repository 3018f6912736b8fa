using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Parley.Crypto;
using Parley.Crypto.Groups;

namespace Parley.Interop;

/// <summary>Sender Key group messages between Parley and libsignal, both directions, with loss and reordering.</summary>
internal static class SenderKeyChecks
{
    private const int Messages = 500;

    public static async Task RunAsync(CheckRunner runner, Oracle oracle)
    {
        await runner.RunAsync("sender key: Parley distribution message is byte-identical to libsignal's", async () =>
        {
            var store = new InMemorySenderKeyStore();
            var distributionId = Guid.NewGuid();
            SenderKeyDistributionMessage ours = new GroupSessionBuilder(store).Create(new ProtocolAddress("alice", 1), distributionId);
            JsonObject theirs = await oracle.CallAsync("group.distribution", new JsonObject
            {
                ["distributionId"] = distributionId.ToString(),
                ["chainId"] = ours.ChainId,
                ["iteration"] = ours.Iteration,
                ["chainKey"] = Oracle.B64(ours.ChainKey),
                ["public"] = Oracle.B64(ours.SigningKey.Serialize()),
            });
            CheckFailedException.UnlessEqual(Oracle.Bytes(theirs, "message"), ours.Serialize(), "distribution messages");
        });

        await runner.RunAsync("sender key: Parley message body is byte-identical to libsignal's", async () =>
        {
            var store = new InMemorySenderKeyStore();
            var alice = new ProtocolAddress("alice", 1);
            var distributionId = Guid.NewGuid();
            new GroupSessionBuilder(store).Create(alice, distributionId);
            var cipher = new GroupCipher(store, alice);
            for (int i = 0; i < 3; i++)
            {
                byte[] ours = (cipher.Encrypt(distributionId, RandomNumberGenerator.GetBytes(i * 50))).Serialize();
                SenderKeyMessage parsed = SenderKeyMessage.Deserialize(ours);
                JsonObject key = await oracle.CallAsync("keys.generate");
                JsonObject theirs = await oracle.CallAsync("group.sign", new JsonObject
                {
                    ["private"] = key["private"]!.GetValue<string>(),
                    ["distributionId"] = parsed.DistributionId.ToString(),
                    ["chainId"] = parsed.ChainId,
                    ["iteration"] = parsed.Iteration,
                    ["ciphertext"] = Oracle.B64(parsed.Ciphertext.Span),
                });
                byte[] theirBytes = Oracle.Bytes(theirs, "message");
                CheckFailedException.UnlessEqual(theirBytes.AsSpan(0, theirBytes.Length - 64), ours.AsSpan(0, ours.Length - 64), "signed parts");
            }
        });

        await runner.RunAsync($"sender key: {Messages} Parley group messages decrypt in libsignal, reordered and lossy, replay refused", async () =>
        {
            var store = new InMemorySenderKeyStore();
            var alice = new ProtocolAddress("alice", 1);
            var distributionId = Guid.NewGuid();
            SenderKeyDistributionMessage distribution = new GroupSessionBuilder(store).Create(alice, distributionId);
            string party = $"bob-{distributionId}";
            await oracle.CallAsync("group.process", new JsonObject { ["party"] = party, ["name"] = "alice", ["device"] = 1, ["message"] = Oracle.B64(distribution.Serialize()) });

            var cipher = new GroupCipher(store, alice);
            var plaintexts = new List<byte[]>();
            var ciphertexts = new List<byte[]>();
            for (int i = 0; i < Messages; i++)
            {
                plaintexts.Add(RandomNumberGenerator.GetBytes(RandomNumberGenerator.GetInt32(0, 300)));
                ciphertexts.Add((cipher.Encrypt(distributionId, plaintexts[i])).Serialize());
            }

            List<int> order = Delivery.Order(Messages, dropEvery: 7, window: 25, seed: 1);
            foreach (int i in order)
            {
                JsonObject result = await oracle.CallAsync("group.decrypt", new JsonObject { ["party"] = party, ["name"] = "alice", ["device"] = 1, ["ciphertext"] = Oracle.B64(ciphertexts[i]) });
                CheckFailedException.UnlessEqual(plaintexts[i], Oracle.Bytes(result, "plaintext"), $"message {i}");
            }

            await ExpectRefusal(() => oracle.CallAsync("group.decrypt", new JsonObject { ["party"] = party, ["name"] = "alice", ["device"] = 1, ["ciphertext"] = Oracle.B64(ciphertexts[order[10]]) }), "replayed message");
        });

        await runner.RunAsync($"sender key: {Messages} libsignal group messages decrypt in Parley, reordered and lossy, replay refused", async () =>
        {
            var store = new InMemorySenderKeyStore();
            var distributionId = Guid.NewGuid();
            string party = $"carol-{distributionId}";
            JsonObject created = await oracle.CallAsync("group.create", new JsonObject { ["party"] = party, ["name"] = "carol", ["device"] = 2, ["distributionId"] = distributionId.ToString() });
            var carol = new ProtocolAddress("carol", 2);
            new GroupSessionBuilder(store).Process(carol, SenderKeyDistributionMessage.Deserialize(Oracle.Bytes(created, "message")));

            var plaintexts = new List<byte[]>();
            var ciphertexts = new List<byte[]>();
            for (int i = 0; i < Messages; i++)
            {
                plaintexts.Add(RandomNumberGenerator.GetBytes(RandomNumberGenerator.GetInt32(0, 300)));
                JsonObject result = await oracle.CallAsync("group.encrypt", new JsonObject
                {
                    ["party"] = party, ["name"] = "carol", ["device"] = 2, ["distributionId"] = distributionId.ToString(), ["plaintext"] = Oracle.B64(plaintexts[i]),
                });
                ciphertexts.Add(Oracle.Bytes(result, "ciphertext"));
            }

            var cipher = new GroupCipher(store, carol);
            List<int> order = Delivery.Order(Messages, dropEvery: 5, window: 40, seed: 2);
            foreach (int i in order)
            {
                byte[] plaintext = cipher.Decrypt(ciphertexts[i]);
                CheckFailedException.UnlessEqual(plaintexts[i], plaintext, $"message {i}");
            }

            try
            {
                cipher.Decrypt(ciphertexts[order[3]]);
                throw new CheckFailedException("Parley accepted a replayed message");
            }
            catch (DuplicateMessageException)
            {
            }
        });

        await runner.RunAsync("sender key: a late joiner starts where libsignal's chain is and cannot read older messages", async () =>
        {
            var store = new InMemorySenderKeyStore();
            var distributionId = Guid.NewGuid();
            string party = $"erin-{distributionId}";
            var erin = new ProtocolAddress("erin", 3);
            JsonObject sender = new() { ["party"] = party, ["name"] = "erin", ["device"] = 3, ["distributionId"] = distributionId.ToString() };
            await oracle.CallAsync("group.create", sender);
            var early = new List<byte[]>();
            for (int i = 0; i < 5; i++)
            {
                JsonObject request = (JsonObject)sender.DeepClone();
                request["plaintext"] = Oracle.B64([(byte)i]);
                early.Add(Oracle.Bytes(await oracle.CallAsync("group.encrypt", request), "ciphertext"));
            }

            JsonObject late = await oracle.CallAsync("group.create", sender);
            var distribution = SenderKeyDistributionMessage.Deserialize(Oracle.Bytes(late, "message"));
            CheckFailedException.Unless(distribution.Iteration == 5, $"libsignal's distribution message is at iteration {distribution.Iteration}, expected 5");
            new GroupSessionBuilder(store).Process(erin, distribution);
            JsonObject next = (JsonObject)sender.DeepClone();
            next["plaintext"] = Oracle.B64([5]);
            byte[] fifth = Oracle.Bytes(await oracle.CallAsync("group.encrypt", next), "ciphertext");
            var cipher = new GroupCipher(store, erin);
            CheckFailedException.Unless(cipher.Decrypt(fifth).SequenceEqual(new byte[] { 5 }), "the message after joining did not decrypt");
            try
            {
                cipher.Decrypt(early[4]);
                throw new CheckFailedException("a message from before joining decrypted");
            }
            catch (DuplicateMessageException)
            {
            }
        });

        await runner.RunAsync("sender key: after 6 chain rotations both sides read the newest 5 chains and refuse the oldest", async () =>
        {
            const int chains = SenderKeyLimits.MaxStates + 1;
            var distributionId = Guid.NewGuid();

            // Parley rotates (a fresh record per chain); libsignal receives.
            var parleySender = new ProtocolAddress("gina", 5);
            string receiver = $"gina-reader-{distributionId}";
            var parleyMessages = new List<byte[]>();
            for (int chain = 0; chain < chains; chain++)
            {
                var store = new InMemorySenderKeyStore();
                SenderKeyDistributionMessage distribution = new GroupSessionBuilder(store).Create(parleySender, distributionId);
                await oracle.CallAsync("group.process", new JsonObject { ["party"] = receiver, ["name"] = "gina", ["device"] = 5, ["message"] = Oracle.B64(distribution.Serialize()) });
                parleyMessages.Add(new GroupCipher(store, parleySender).Encrypt(distributionId, new[] { (byte)chain }).Serialize());
            }

            // libsignal rotates (a fresh store per chain); Parley receives.
            var libsignalSender = new ProtocolAddress("hank", 6);
            var parleyReceiver = new InMemorySenderKeyStore();
            var libsignalMessages = new List<byte[]>();
            for (int chain = 0; chain < chains; chain++)
            {
                var sender = new JsonObject { ["party"] = $"hank-{chain}-{distributionId}", ["name"] = "hank", ["device"] = 6, ["distributionId"] = distributionId.ToString() };
                JsonObject created = await oracle.CallAsync("group.create", sender);
                new GroupSessionBuilder(parleyReceiver).Process(libsignalSender, SenderKeyDistributionMessage.Deserialize(Oracle.Bytes(created, "message")));
                sender["plaintext"] = Oracle.B64([(byte)chain]);
                libsignalMessages.Add(Oracle.Bytes(await oracle.CallAsync("group.encrypt", sender), "ciphertext"));
            }

            var cipher = new GroupCipher(parleyReceiver, libsignalSender);
            for (int chain = chains - 1; chain >= 1; chain--)
            {
                JsonObject read = await oracle.CallAsync("group.decrypt", new JsonObject { ["party"] = receiver, ["name"] = "gina", ["device"] = 5, ["ciphertext"] = Oracle.B64(parleyMessages[chain]) });
                CheckFailedException.UnlessEqual(new[] { (byte)chain }, Oracle.Bytes(read, "plaintext"), $"libsignal reading Parley chain {chain}");
                byte[] plaintext = cipher.Decrypt(libsignalMessages[chain]);
                CheckFailedException.UnlessEqual(new[] { (byte)chain }, plaintext, $"Parley reading libsignal chain {chain}");
            }

            await ExpectRefusal(() => oracle.CallAsync("group.decrypt", new JsonObject { ["party"] = receiver, ["name"] = "gina", ["device"] = 5, ["ciphertext"] = Oracle.B64(parleyMessages[0]) }), "message of an evicted chain");
            try
            {
                cipher.Decrypt(libsignalMessages[0]);
                throw new CheckFailedException("Parley read a message of an evicted chain");
            }
            catch (NoSessionException)
            {
            }
        });

        await runner.RunAsync("sender key: libsignal accepts a 25,000-message jump and refuses 25,001 like Parley", async () =>
        {
            var store = new InMemorySenderKeyStore();
            var alice = new ProtocolAddress("alice", 1);
            var distributionId = Guid.NewGuid();
            SenderKeyDistributionMessage distribution = new GroupSessionBuilder(store).Create(alice, distributionId);
            string party = $"dave-{distributionId}";
            await oracle.CallAsync("group.process", new JsonObject { ["party"] = party, ["name"] = "alice", ["device"] = 1, ["message"] = Oracle.B64(distribution.Serialize()) });
            var cipher = new GroupCipher(store, alice);
            byte[]? atLimit = null;
            byte[]? beyond = null;
            for (int i = 0; i <= SenderKeyLimits.MaxForwardJumps + 1; i++)
            {
                SenderKeyMessage message = cipher.Encrypt(distributionId, new byte[] { (byte)i });
                if (i == SenderKeyLimits.MaxForwardJumps)
                {
                    atLimit = message.Serialize();
                }

                beyond = message.Serialize();
            }

            await ExpectRefusal(() => oracle.CallAsync("group.decrypt", new JsonObject { ["party"] = party, ["name"] = "alice", ["device"] = 1, ["ciphertext"] = Oracle.B64(beyond!) }), "jump of 25,001");
            JsonObject accepted = await oracle.CallAsync("group.decrypt", new JsonObject { ["party"] = party, ["name"] = "alice", ["device"] = 1, ["ciphertext"] = Oracle.B64(atLimit!) });
            CheckFailedException.UnlessEqual(new[] { unchecked((byte)SenderKeyLimits.MaxForwardJumps) }, Oracle.Bytes(accepted, "plaintext"), "message at the limit");
        });
    }

    private static async Task ExpectRefusal(Func<Task> call, string what)
    {
        try
        {
            await call();
        }
        catch (OracleException)
        {
            return;
        }

        throw new CheckFailedException($"libsignal accepted the {what}");
    }
}
