using Parley.Crypto.Keys;
using Parley.Crypto.Messages;
using Parley.Crypto.Sessions;
using Parley.Crypto.Stores;

namespace Parley.Crypto.Tests.Sessions;

public class ConversationTests
{
    private sealed record InFlight(TestDevice From, TestDevice To, CiphertextMessageType Type, byte[] Wire, string Text);

    [Theory]
    [InlineData(KemKeyType.Kyber1024, 11)]
    [InlineData(null, 12)]
    public void Thousand_message_conversation_with_ratchet_turns_reordering_and_drops_delivers_every_kept_message(KemKeyType? kem, int seed)
    {
        var random = new Random(seed);
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle(kem: kem));
        Assert.Equal("setup", bob.Decrypt(alice, alice.Encrypt(bob, "setup")));

        int sent = 0, delivered = 0, dropped = 0, turns = 0;
        TestDevice? lastSender = null;
        var pending = new List<InFlight>();
        while (sent < 1000)
        {
            // A burst from one side, then the other side may answer: each change of direction is a DH ratchet turn.
            var from = random.Next(2) == 0 ? alice : bob;
            var to = from == alice ? bob : alice;
            if (from != lastSender)
            {
                turns++;
                lastSender = from;
            }

            int burst = random.Next(1, 8);
            for (int i = 0; i < burst && sent < 1000; i++, sent++)
            {
                var text = $"{from.Address.Name}#{sent}";
                var message = from.Encrypt(to, text);
                pending.Add(new InFlight(from, to, message.Type, message.Serialize(), text));
            }

            // Deliver a random part of what is in flight, in random order; lose about 3%.
            int deliverCount = random.Next(pending.Count + 1);
            foreach (var item in pending.OrderBy(_ => random.Next()).Take(deliverCount).ToList())
            {
                pending.Remove(item);
                if (random.NextDouble() < 0.03)
                {
                    dropped++;
                    continue;
                }

                Assert.Equal(item.Text, item.To.Decrypt(item.From, item.Type, item.Wire));
                delivered++;
            }
        }

        foreach (var item in pending.OrderBy(_ => random.Next()))
        {
            Assert.Equal(item.Text, item.To.Decrypt(item.From, item.Type, item.Wire));
            delivered++;
        }

        Assert.Equal(1000, delivered + dropped);
        Assert.True(dropped > 0, "the run should have lost some messages");
        Assert.True(turns > 50, $"expected many ratchet turns, got {turns}");
    }

    [Fact]
    public void Tampered_body_or_mac_is_rejected_as_bad_mac_and_the_genuine_message_still_decrypts()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var wire = alice.Encrypt(bob, "authentic").Serialize();

        var flippedBody = (byte[])wire.Clone();
        flippedBody[wire.Length - SignalMessage.MacLength - 3] ^= 0x01;
        var flippedMac = (byte[])wire.Clone();
        flippedMac[^1] ^= 0x80;

        Assert.Throws<InvalidMacException>(() => bob.Decrypt(alice, CiphertextMessageType.Whisper, flippedBody));
        Assert.Throws<InvalidMacException>(() => bob.Decrypt(alice, CiphertextMessageType.Whisper, flippedMac));
        Assert.Equal("authentic", bob.Decrypt(alice, CiphertextMessageType.Whisper, wire));
    }

    [Fact]
    public void Tampered_prekey_message_is_rejected_and_leaves_no_session()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle());
        var wire = alice.Encrypt(bob, "first").Serialize();
        var tampered = (byte[])wire.Clone();
        tampered[^2] ^= 0x01; // inside the embedded message's MAC

        Assert.ThrowsAny<InvalidMessageException>(() => bob.Decrypt(alice, CiphertextMessageType.PreKey, tampered));
        Assert.False(bob.Store.ContainsSession(alice.Address));
        Assert.Equal("first", bob.Decrypt(alice, CiphertextMessageType.PreKey, wire));
    }

    [Fact]
    public void Truncated_or_garbage_wire_bytes_are_invalid_messages()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var wire = alice.Encrypt(bob, "whole").Serialize();

        Assert.ThrowsAny<InvalidMessageException>(() => bob.Decrypt(alice, CiphertextMessageType.Whisper, wire[..20]));
        Assert.ThrowsAny<InvalidMessageException>(() => bob.Decrypt(alice, CiphertextMessageType.Whisper, [0x44, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4, 5, 6, 7, 8]));
        Assert.ThrowsAny<InvalidMessageException>(() => bob.Decrypt(alice, CiphertextMessageType.Whisper, [0x24, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    }

    [Fact]
    public void Message_from_a_party_with_another_identity_fails_the_mac()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var mallory = new TestDevice("mallory");
        mallory.StartSessionWith(bob, bob.CreateBundle());
        Assert.Equal("m", bob.Decrypt(mallory, mallory.Encrypt(bob, "m")));

        // Mallory's ciphertext presented as coming from Alice: no state of Alice's session can authenticate it.
        Assert.Equal("r", mallory.Decrypt(bob, bob.Encrypt(mallory, "r")));
        var forged = mallory.Encrypt(bob, "pretending to be alice").Serialize();
        Assert.Throws<InvalidMacException>(() => bob.Decrypt(alice, CiphertextMessageType.Whisper, forged));
    }

    [Fact]
    public void Changed_identity_after_a_session_is_refused_in_both_directions()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var message = alice.Encrypt(bob, "hi").Serialize();

        // The user was told Bob's key changed and has not accepted it.
        alice.Store.SaveIdentity(bob.Address, IdentityKeyPair.Generate().IdentityKey);
        bob.Store.SaveIdentity(alice.Address, IdentityKeyPair.Generate().IdentityKey);

        Assert.Throws<UntrustedIdentityException>(() => alice.Encrypt(bob, "blocked"));
        Assert.Throws<UntrustedIdentityException>(() => bob.Decrypt(alice, CiphertextMessageType.Whisper, message));
    }

    [Fact]
    public void Replayed_signal_message_is_a_duplicate()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var wire = alice.Encrypt(bob, "once").Serialize();

        Assert.Equal("once", bob.Decrypt(alice, CiphertextMessageType.Whisper, wire));
        Assert.Throws<DuplicateMessageException>(() => bob.Decrypt(alice, CiphertextMessageType.Whisper, wire));
    }

    [Fact]
    public void Replayed_out_of_order_message_is_a_duplicate_after_its_skipped_key_is_used()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var early = alice.Encrypt(bob, "early").Serialize();
        var late = alice.Encrypt(bob, "late").Serialize();

        Assert.Equal("late", bob.Decrypt(alice, CiphertextMessageType.Whisper, late));
        Assert.Equal("early", bob.Decrypt(alice, CiphertextMessageType.Whisper, early));
        Assert.Throws<DuplicateMessageException>(() => bob.Decrypt(alice, CiphertextMessageType.Whisper, early));
    }

    [Fact]
    public void Replayed_prekey_message_is_a_duplicate_and_does_not_reset_the_session()
    {
        var alice = new TestDevice("alice");
        var bob = new TestDevice("bob");
        alice.StartSessionWith(bob, bob.CreateBundle());
        var first = alice.Encrypt(bob, "first").Serialize();

        Assert.Equal("first", bob.Decrypt(alice, CiphertextMessageType.PreKey, first));
        Assert.Throws<DuplicateMessageException>(() => bob.Decrypt(alice, CiphertextMessageType.PreKey, first));
        Assert.Equal("second", bob.Decrypt(alice, alice.Encrypt(bob, "second")));
    }

    [Fact]
    public void Session_records_saved_and_restored_mid_conversation_carry_on()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var held = alice.Encrypt(bob, "held across the restart").Serialize();
        Assert.Equal("a", bob.Decrypt(alice, alice.Encrypt(bob, "a")));
        Assert.Equal("b", alice.Decrypt(bob, bob.Encrypt(alice, "b")));
        var unreadByAlice = bob.Encrypt(alice, "unread by alice").Serialize();

        foreach (var (device, peer) in new[] { (alice, bob), (bob, alice) })
        {
            var bytes = device.Store.LoadSession(peer.Address)!.Serialize();
            var restored = new InMemoryProtocolStore(device.Identity, device.RegistrationId);
            restored.SaveIdentity(peer.Address, peer.Identity.IdentityKey);
            restored.StoreSession(peer.Address, SessionRecord.Deserialize(bytes));
            Assert.Equal(bytes, restored.LoadSession(peer.Address)!.Serialize());
            device.Store = restored;
        }

        Assert.Equal("held across the restart", bob.Decrypt(alice, CiphertextMessageType.Whisper, held));
        Assert.Equal("unread by alice", alice.Decrypt(bob, CiphertextMessageType.Whisper, unreadByAlice));
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal($"x{i}", bob.Decrypt(alice, alice.Encrypt(bob, $"x{i}")));
            Assert.Equal($"y{i}", alice.Decrypt(bob, bob.Encrypt(alice, $"y{i}")));
        }
    }

    [Fact]
    public void Failed_decrypt_leaves_the_stored_session_unchanged()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var before = bob.Store.LoadSession(alice.Address)!.Serialize();
        var wire = alice.Encrypt(bob, "x").Serialize();
        wire[^1] ^= 1;

        Assert.Throws<InvalidMacException>(() => bob.Decrypt(alice, CiphertextMessageType.Whisper, wire));
        Assert.Equal(before, bob.Store.LoadSession(alice.Address)!.Serialize());
    }

    [Fact]
    public void Counter_jump_beyond_the_forward_bound_is_refused_with_a_clear_error()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        Assert.Equal("in step", bob.Decrypt(alice, alice.Encrypt(bob, "in step")));
        int bobChainIndex = NextReceiveIndex(bob, alice);

        AdvanceSendingChain(alice, bob, ProtocolLimits.MaxForwardJumps + 1);
        var tooFar = alice.Encrypt(bob, "from the far future").Serialize();

        var ex = Assert.Throws<InvalidMessageException>(() => bob.Decrypt(alice, CiphertextMessageType.Whisper, tooFar));
        Assert.Contains("25000", ex.Message, StringComparison.Ordinal);
        Assert.Equal(bobChainIndex, NextReceiveIndex(bob, alice));
    }

    [Fact]
    public void Counter_jump_at_the_bound_decrypts_and_keeps_only_the_newest_skipped_keys()
    {
        var (alice, bob) = TestDevice.EstablishedPair();
        var oldest = alice.Encrypt(bob, "skipped early").Serialize();
        AdvanceSendingChain(alice, bob, ProtocolLimits.MaxForwardJumps - 11);
        var recent = alice.Encrypt(bob, "skipped recently").Serialize();
        AdvanceSendingChain(alice, bob, 9);
        var last = alice.Encrypt(bob, "at the bound").Serialize();

        Assert.Equal(ProtocolLimits.MaxForwardJumps, (int)(SignalMessage.Deserialize(last).Counter - SignalMessage.Deserialize(oldest).Counter));
        Assert.Equal("at the bound", bob.Decrypt(alice, CiphertextMessageType.Whisper, last));
        Assert.Equal("skipped recently", bob.Decrypt(alice, CiphertextMessageType.Whisper, recent));

        // Only the newest MaxMessageKeys skipped keys are kept; older messages can no longer be read.
        Assert.Throws<DuplicateMessageException>(() => bob.Decrypt(alice, CiphertextMessageType.Whisper, oldest));
        var chain = bob.Store.LoadSession(alice.Address)!.Current!.ReceiverChains[^1];
        Assert.True(chain.MessageKeys.Count <= ProtocolLimits.MaxMessageKeys);
    }

    private static int NextReceiveIndex(TestDevice receiver, TestDevice sender) =>
        (int)receiver.Store.LoadSession(sender.Address)!.Current!.ReceiverChains[^1].ChainKey.Index;

    /// <summary>Moves the sender's chain forward as if it had sent (and the network lost) <paramref name="steps"/> messages.</summary>
    private static void AdvanceSendingChain(TestDevice sender, TestDevice receiver, int steps)
    {
        var record = sender.Store.LoadSession(receiver.Address)!;
        var state = record.Current!;
        var chainKey = state.Sender!.ChainKey;
        for (int i = 0; i < steps; i++)
        {
            chainKey = chainKey.Next();
        }

        state.Sender = state.Sender with { ChainKey = chainKey };
        sender.Store.StoreSession(receiver.Address, record);
    }
}
