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
    public async Task A_member_decrypts_group_messages_after_processing_the_distribution_message()
    {
        await Distribute();
        var sending = new GroupCipher(_aliceStore, Alice);
        var receiving = new GroupCipher(_bobStore, Alice);

        for (int i = 0; i < 10; i++)
        {
            byte[] text = Encoding.UTF8.GetBytes($"hello group {i}");
            SenderKeyMessage message = await sending.EncryptAsync(Group, text);
            Assert.Equal((uint)i, message.Iteration);
            Assert.Equal(text, await receiving.DecryptAsync(message.Serialize()));
        }
    }

    [Fact]
    public async Task Messages_out_of_order_decrypt_once_each()
    {
        await Distribute();
        var sending = new GroupCipher(_aliceStore, Alice);
        var receiving = new GroupCipher(_bobStore, Alice);
        var messages = new List<byte[]>();
        for (int i = 0; i < 50; i++)
        {
            messages.Add((await sending.EncryptAsync(Group, BitConverter.GetBytes(i))).Serialize());
        }

        int[] order = Enumerable.Range(0, 50).OrderBy(i => (i * 37) % 50).ToArray();
        foreach (int i in order)
        {
            Assert.Equal(i, BitConverter.ToInt32(await receiving.DecryptAsync(messages[i])));
        }

        foreach (int i in order.Take(5))
        {
            await Assert.ThrowsAsync<DuplicateMessageException>(() => receiving.DecryptAsync(messages[i]));
        }
    }

    [Fact]
    public async Task A_replayed_message_is_rejected_as_duplicate()
    {
        await Distribute();
        var sending = new GroupCipher(_aliceStore, Alice);
        var receiving = new GroupCipher(_bobStore, Alice);
        byte[] message = (await sending.EncryptAsync(Group, new byte[] { 1, 2, 3 })).Serialize();

        await receiving.DecryptAsync(message);

        await Assert.ThrowsAsync<DuplicateMessageException>(() => receiving.DecryptAsync(message));
    }

    [Fact]
    public async Task A_message_more_than_25000_iterations_ahead_is_refused()
    {
        await Distribute();
        SenderKeyMessage far = await Skip(new GroupCipher(_aliceStore, Alice), SenderKeyLimits.MaxForwardJumps + 1);

        var error = await Assert.ThrowsAsync<InvalidMessageException>(() => new GroupCipher(_bobStore, Alice).DecryptAsync(far.Serialize()));
        Assert.Contains("future", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_message_exactly_25000_iterations_ahead_is_accepted()
    {
        await Distribute();
        SenderKeyMessage far = await Skip(new GroupCipher(_aliceStore, Alice), SenderKeyLimits.MaxForwardJumps);

        Assert.Equal(new byte[] { 7 }, await new GroupCipher(_bobStore, Alice).DecryptAsync(far.Serialize()));
    }

    [Fact]
    public async Task Only_the_newest_2000_skipped_keys_are_kept()
    {
        await Distribute();
        var sending = new GroupCipher(_aliceStore, Alice);
        var receiving = new GroupCipher(_bobStore, Alice);
        var early = new List<byte[]>();
        for (int i = 0; i < 3; i++)
        {
            early.Add((await sending.EncryptAsync(Group, new byte[] { (byte)i })).Serialize());
        }

        SenderKeyMessage late = await Skip(sending, SenderKeyLimits.MaxMessageKeys);
        Assert.Equal(new byte[] { 7 }, await receiving.DecryptAsync(late.Serialize()));

        // Iterations 0..2002 were skipped; 0..2 fell off the 2,000-key window.
        await Assert.ThrowsAsync<DuplicateMessageException>(() => receiving.DecryptAsync(early[0]));
        SenderKeyRecord? record = await _bobStore.LoadSenderKeyAsync(Alice, Group);
        Assert.Equal(SenderKeyLimits.MaxMessageKeys, record!.States[0].SkippedCount);
    }

    [Fact]
    public async Task A_message_signed_by_another_key_is_rejected_and_changes_nothing()
    {
        await Distribute();
        var receiving = new GroupCipher(_bobStore, Alice);
        SenderKeyDistributionMessage distribution = await new GroupSessionBuilder(_aliceStore).CreateAsync(Alice, Group);
        // Same chain, forged signature: rebuild the message with a key the group does not know.
        var forger = new InMemorySenderKeyStore();
        var record = new SenderKeyRecord();
        EcKeyPair stranger = EcKeyPair.Generate();
        record.AddState(3, distribution.ChainId, 0, distribution.ChainKey.ToArray(), stranger.PublicKey, stranger.PrivateKey);
        await forger.StoreSenderKeyAsync(Alice, Group, record);
        SenderKeyMessage forged = await new GroupCipher(forger, Alice).EncryptAsync(Group, new byte[] { 6, 6, 6 });

        await Assert.ThrowsAsync<InvalidSignatureException>(() => receiving.DecryptAsync(forged.Serialize()));

        SenderKeyMessage genuine = await new GroupCipher(_aliceStore, Alice).EncryptAsync(Group, new byte[] { 1 });
        Assert.Equal(new byte[] { 1 }, await receiving.DecryptAsync(genuine.Serialize()));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(20)]
    [InlineData(-65)]
    [InlineData(-1)]
    public async Task A_flipped_bit_in_a_message_is_rejected(int offset)
    {
        await Distribute();
        byte[] message = (await new GroupCipher(_aliceStore, Alice).EncryptAsync(Group, new byte[40])).Serialize();
        message[offset >= 0 ? offset : message.Length + offset] ^= 0x04;

        await Assert.ThrowsAnyAsync<CryptoException>(() => new GroupCipher(_bobStore, Alice).DecryptAsync(message));
    }

    [Fact]
    public async Task Decrypting_without_a_distribution_message_is_a_missing_session()
    {
        SenderKeyDistributionMessage _ = await new GroupSessionBuilder(_aliceStore).CreateAsync(Alice, Group);
        byte[] message = (await new GroupCipher(_aliceStore, Alice).EncryptAsync(Group, new byte[] { 1 })).Serialize();

        await Assert.ThrowsAsync<NoSessionException>(() => new GroupCipher(_bobStore, Alice).DecryptAsync(message));
    }

    [Fact]
    public async Task Encrypting_before_creating_a_chain_is_a_missing_session()
    {
        await Assert.ThrowsAsync<NoSessionException>(() => new GroupCipher(_aliceStore, Alice).EncryptAsync(Group, new byte[] { 1 }));
    }

    [Fact]
    public async Task A_received_chain_cannot_be_used_to_send()
    {
        await Distribute();

        await Assert.ThrowsAsync<NoSessionException>(() => new GroupCipher(_bobStore, Alice).EncryptAsync(Group, new byte[] { 1 }));
    }

    [Fact]
    public async Task A_repeated_distribution_message_does_not_rewind_the_chain()
    {
        SenderKeyDistributionMessage distribution = await Distribute();
        var receiving = new GroupCipher(_bobStore, Alice);
        byte[] message = (await new GroupCipher(_aliceStore, Alice).EncryptAsync(Group, new byte[] { 1 })).Serialize();
        await receiving.DecryptAsync(message);

        await new GroupSessionBuilder(_bobStore).ProcessAsync(Alice, SenderKeyDistributionMessage.Deserialize(distribution.Serialize()));

        await Assert.ThrowsAsync<DuplicateMessageException>(() => receiving.DecryptAsync(message));
    }

    [Fact]
    public async Task Create_returns_the_current_chain_position_after_sending()
    {
        var builder = new GroupSessionBuilder(_aliceStore);
        SenderKeyDistributionMessage first = await builder.CreateAsync(Alice, Group);
        var sending = new GroupCipher(_aliceStore, Alice);
        await sending.EncryptAsync(Group, new byte[] { 1 });
        await sending.EncryptAsync(Group, new byte[] { 2 });

        SenderKeyDistributionMessage later = await builder.CreateAsync(Alice, Group);

        Assert.Equal(first.ChainId, later.ChainId);
        Assert.Equal(first.SigningKey, later.SigningKey);
        Assert.Equal(0u, first.Iteration);
        Assert.Equal(2u, later.Iteration);
        Assert.True(first.ChainId < 0x8000_0000u);

        // A member that joins late starts at iteration 2 and reads the next message.
        await new GroupSessionBuilder(_bobStore).ProcessAsync(Alice, later);
        byte[] third = (await sending.EncryptAsync(Group, new byte[] { 3 })).Serialize();
        Assert.Equal(new byte[] { 3 }, await new GroupCipher(_bobStore, Alice).DecryptAsync(third));
    }

    [Fact]
    public async Task Only_five_chains_are_remembered_per_sender()
    {
        var record = new SenderKeyRecord();
        for (uint chain = 1; chain <= 7; chain++)
        {
            record.AddState(3, chain, 0, RandomNumberGenerator.GetBytes(32), EcKeyPair.Generate().PublicKey, null);
        }

        Assert.Equal(SenderKeyLimits.MaxStates, record.States.Count);
        Assert.Equal(7u, record.States[0].ChainId);
        Assert.Null(record.StateFor(2));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_record_survives_serialization_with_its_skipped_keys()
    {
        await Distribute();
        var sending = new GroupCipher(_aliceStore, Alice);
        byte[] skipped = (await sending.EncryptAsync(Group, new byte[] { 1 })).Serialize();
        byte[] next = (await sending.EncryptAsync(Group, new byte[] { 2 })).Serialize();
        var receiving = new GroupCipher(_bobStore, Alice);
        await receiving.DecryptAsync(next);

        SenderKeyRecord? stored = await _bobStore.LoadSenderKeyAsync(Alice, Group);
        var copy = SenderKeyRecord.Deserialize(stored!.Serialize());

        Assert.Equal(stored.Serialize(), copy.Serialize());
        Assert.Equal(1, copy.States[0].SkippedCount);
        Assert.Equal(new byte[] { 1 }, await receiving.DecryptAsync(skipped));
    }

    private async Task<SenderKeyDistributionMessage> Distribute()
    {
        SenderKeyDistributionMessage distribution = await new GroupSessionBuilder(_aliceStore).CreateAsync(Alice, Group);
        await new GroupSessionBuilder(_bobStore).ProcessAsync(Alice, SenderKeyDistributionMessage.Deserialize(distribution.Serialize()));
        return distribution;
    }

    private async Task<SenderKeyMessage> Skip(GroupCipher sending, int count)
    {
        // Advance our own stored chain without producing messages, then send one.
        SenderKeyRecord record = (await _aliceStore.LoadSenderKeyAsync(Alice, Group))!;
        for (int i = 0; i < count; i++)
        {
            record.States[0].ChainKey = record.States[0].ChainKey.Next();
        }

        await _aliceStore.StoreSenderKeyAsync(Alice, Group, record);
        return await sending.EncryptAsync(Group, new byte[] { 7 });
    }
}
