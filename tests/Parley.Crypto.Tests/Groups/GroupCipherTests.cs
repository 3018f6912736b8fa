using System.Security.Cryptography;
using System.Text;
using Parley.Crypto.Groups;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Tests.Groups;

public class GroupCipherTests
{
    private static readonly ProtocolAddress Alice = new("alice", 1);
    private static readonly ProtocolAddress Bob = new("bob", 1);
    private static readonly Guid Group = Guid.Parse("d1d1d1d1-7000-4000-8000-00000000000a");

    private readonly InMemorySenderKeyStore _aliceStore = new();
    private readonly InMemorySenderKeyStore _bobStore = new();

    [Fact]
    public void A_member_decrypts_group_messages_after_processing_the_distribution_message()
    {
        Distribute();
        var sending = new GroupCipher(_aliceStore, Alice);
        var receiving = new GroupCipher(_bobStore, Alice);

        for (int i = 0; i < 10; i++)
        {
            byte[] text = Encoding.UTF8.GetBytes($"hello group {i}");
            SenderKeyMessage message = sending.Encrypt(Group, text);
            Assert.Equal((uint)i, message.Iteration);
            Assert.Equal(text, receiving.Decrypt(message.Serialize()));
        }
    }

    [Fact]
    public void Messages_out_of_order_decrypt_once_each()
    {
        Distribute();
        var sending = new GroupCipher(_aliceStore, Alice);
        var receiving = new GroupCipher(_bobStore, Alice);
        var messages = new List<byte[]>();
        for (int i = 0; i < 50; i++)
        {
            messages.Add(sending.Encrypt(Group, BitConverter.GetBytes(i)).Serialize());
        }

        int[] order = Enumerable.Range(0, 50).OrderBy(i => (i * 37) % 50).ToArray();
        foreach (int i in order)
        {
            Assert.Equal(i, BitConverter.ToInt32(receiving.Decrypt(messages[i])));
        }

        foreach (int i in order.Take(5))
        {
            Assert.Throws<DuplicateMessageException>(() => receiving.Decrypt(messages[i]));
        }
    }

    [Fact]
    public void A_replayed_message_is_rejected_as_duplicate()
    {
        Distribute();
        var sending = new GroupCipher(_aliceStore, Alice);
        var receiving = new GroupCipher(_bobStore, Alice);
        byte[] message = sending.Encrypt(Group, new byte[] { 1, 2, 3 }).Serialize();

        receiving.Decrypt(message);

        Assert.Throws<DuplicateMessageException>(() => receiving.Decrypt(message));
    }

    [Fact]
    public void A_message_more_than_25000_iterations_ahead_is_refused()
    {
        Distribute();
        SenderKeyMessage far = Skip(new GroupCipher(_aliceStore, Alice), SenderKeyLimits.MaxForwardJumps + 1);

        var error = Assert.Throws<InvalidMessageException>(() => new GroupCipher(_bobStore, Alice).Decrypt(far.Serialize()));
        Assert.Contains("future", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_exactly_25000_iterations_ahead_is_accepted()
    {
        Distribute();
        SenderKeyMessage far = Skip(new GroupCipher(_aliceStore, Alice), SenderKeyLimits.MaxForwardJumps);

        Assert.Equal(new byte[] { 7 }, new GroupCipher(_bobStore, Alice).Decrypt(far.Serialize()));
    }

    [Fact]
    public void Only_the_newest_2000_skipped_keys_are_kept()
    {
        Distribute();
        var sending = new GroupCipher(_aliceStore, Alice);
        var receiving = new GroupCipher(_bobStore, Alice);
        var early = new List<byte[]>();
        for (int i = 0; i < 3; i++)
        {
            early.Add(sending.Encrypt(Group, new byte[] { (byte)i }).Serialize());
        }

        SenderKeyMessage late = Skip(sending, SenderKeyLimits.MaxMessageKeys);
        Assert.Equal(new byte[] { 7 }, receiving.Decrypt(late.Serialize()));

        // Iterations 0..2002 were skipped; 0..2 fell off the 2,000-key window.
        Assert.Throws<DuplicateMessageException>(() => receiving.Decrypt(early[0]));
        SenderKeyRecord? record = _bobStore.LoadSenderKey(Alice, Group);
        Assert.Equal(SenderKeyLimits.MaxMessageKeys, record!.States[0].SkippedCount);
    }

    [Fact]
    public void A_message_signed_by_another_key_is_rejected_and_changes_nothing()
    {
        Distribute();
        var receiving = new GroupCipher(_bobStore, Alice);
        SenderKeyDistributionMessage distribution = new GroupSessionBuilder(_aliceStore).Create(Alice, Group);
        // Same chain, forged signature: rebuild the message with a key the group does not know.
        var forger = new InMemorySenderKeyStore();
        var record = new SenderKeyRecord();
        EcKeyPair stranger = EcKeyPair.Generate();
        record.AddState(3, distribution.ChainId, 0, distribution.ChainKey.ToArray(), stranger.PublicKey, stranger.PrivateKey);
        forger.StoreSenderKey(Alice, Group, record);
        SenderKeyMessage forged = new GroupCipher(forger, Alice).Encrypt(Group, new byte[] { 6, 6, 6 });

        Assert.Throws<InvalidSignatureException>(() => receiving.Decrypt(forged.Serialize()));

        SenderKeyMessage genuine = new GroupCipher(_aliceStore, Alice).Encrypt(Group, new byte[] { 1 });
        Assert.Equal(new byte[] { 1 }, receiving.Decrypt(genuine.Serialize()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(-65)]
    [InlineData(-1)]
    public void A_flipped_bit_in_a_message_is_rejected(int offset)
    {
        Distribute();
        byte[] message = new GroupCipher(_aliceStore, Alice).Encrypt(Group, new byte[40]).Serialize();
        message[offset >= 0 ? offset : message.Length + offset] ^= 0x04;

        Assert.ThrowsAny<CryptoException>(() => new GroupCipher(_bobStore, Alice).Decrypt(message));
    }

    [Fact]
    public void Decrypting_without_a_distribution_message_is_a_missing_session()
    {
        SenderKeyDistributionMessage _ = new GroupSessionBuilder(_aliceStore).Create(Alice, Group);
        byte[] message = new GroupCipher(_aliceStore, Alice).Encrypt(Group, new byte[] { 1 }).Serialize();

        Assert.Throws<NoSessionException>(() => new GroupCipher(_bobStore, Alice).Decrypt(message));
    }

    [Fact]
    public void Encrypting_before_creating_a_chain_is_a_missing_session()
    {
        Assert.Throws<NoSessionException>(() => new GroupCipher(_aliceStore, Alice).Encrypt(Group, new byte[] { 1 }));
    }

    [Fact]
    public void A_received_chain_cannot_be_used_to_send()
    {
        Distribute();

        Assert.Throws<NoSessionException>(() => new GroupCipher(_bobStore, Alice).Encrypt(Group, new byte[] { 1 }));
    }

    [Fact]
    public void A_repeated_distribution_message_does_not_rewind_the_chain()
    {
        SenderKeyDistributionMessage distribution = Distribute();
        var receiving = new GroupCipher(_bobStore, Alice);
        byte[] message = new GroupCipher(_aliceStore, Alice).Encrypt(Group, new byte[] { 1 }).Serialize();
        receiving.Decrypt(message);

        new GroupSessionBuilder(_bobStore).Process(Alice, SenderKeyDistributionMessage.Deserialize(distribution.Serialize()));

        Assert.Throws<DuplicateMessageException>(() => receiving.Decrypt(message));
    }

    [Fact]
    public void Create_returns_the_current_chain_position_after_sending()
    {
        var builder = new GroupSessionBuilder(_aliceStore);
        SenderKeyDistributionMessage first = builder.Create(Alice, Group);
        var sending = new GroupCipher(_aliceStore, Alice);
        sending.Encrypt(Group, new byte[] { 1 });
        sending.Encrypt(Group, new byte[] { 2 });

        SenderKeyDistributionMessage later = builder.Create(Alice, Group);

        Assert.Equal(first.ChainId, later.ChainId);
        Assert.Equal(first.SigningKey, later.SigningKey);
        Assert.Equal(0u, first.Iteration);
        Assert.Equal(2u, later.Iteration);
        Assert.True(first.ChainId < 0x8000_0000u);

        // A member that joins late starts at iteration 2 and reads the next message.
        new GroupSessionBuilder(_bobStore).Process(Alice, later);
        byte[] third = sending.Encrypt(Group, new byte[] { 3 }).Serialize();
        Assert.Equal(new byte[] { 3 }, new GroupCipher(_bobStore, Alice).Decrypt(third));
    }

    [Fact]
    public void Only_five_chains_are_remembered_per_sender()
    {
        var record = new SenderKeyRecord();
        for (uint chain = 1; chain <= 7; chain++)
        {
            record.AddState(3, chain, 0, RandomNumberGenerator.GetBytes(32), EcKeyPair.Generate().PublicKey, null);
        }

        Assert.Equal(SenderKeyLimits.MaxStates, record.States.Count);
        Assert.Equal(7u, record.States[0].ChainId);
        Assert.Null(record.StateFor(2));
            }

    [Fact]
    public void A_record_survives_serialization_with_its_skipped_keys()
    {
        Distribute();
        var sending = new GroupCipher(_aliceStore, Alice);
        byte[] skipped = sending.Encrypt(Group, new byte[] { 1 }).Serialize();
        byte[] next = sending.Encrypt(Group, new byte[] { 2 }).Serialize();
        var receiving = new GroupCipher(_bobStore, Alice);
        receiving.Decrypt(next);

        SenderKeyRecord? stored = _bobStore.LoadSenderKey(Alice, Group);
        var copy = SenderKeyRecord.Deserialize(stored!.Serialize());

        Assert.Equal(stored.Serialize(), copy.Serialize());
        Assert.Equal(1, copy.States[0].SkippedCount);
        Assert.Equal(new byte[] { 1 }, receiving.Decrypt(skipped));
    }

    private SenderKeyDistributionMessage Distribute()
    {
        SenderKeyDistributionMessage distribution = new GroupSessionBuilder(_aliceStore).Create(Alice, Group);
        new GroupSessionBuilder(_bobStore).Process(Alice, SenderKeyDistributionMessage.Deserialize(distribution.Serialize()));
        return distribution;
    }

    private SenderKeyMessage Skip(GroupCipher sending, int count)
    {
        // Advance our own stored chain without producing messages, then send one.
        SenderKeyRecord record = _aliceStore.LoadSenderKey(Alice, Group)!;
        for (int i = 0; i < count; i++)
        {
            record.States[0].ChainKey = record.States[0].ChainKey.Next();
        }

        _aliceStore.StoreSenderKey(Alice, Group, record);
        return sending.Encrypt(Group, new byte[] { 7 });
    }
}
