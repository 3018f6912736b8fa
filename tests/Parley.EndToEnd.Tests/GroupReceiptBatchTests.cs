using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Parley.Client;
using Parley.Crypto.Keys;
using Parley.Protocol;
using Parley.Server.Gateway;
using Xunit.Abstractions;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Group READ and DELIVERY receipts coalesced per commit: many members reading (or acking) at once
/// reach the sender device in far fewer envelopes than members, and the SDK still moves every
/// member's tick. The members are raw devices (cheap), the sender a real SDK client.
/// </summary>
public sealed class GroupReceiptBatchTests(ITestOutputHelper output)
{
    private const int Readers = 48;

    [Fact]
    public async Task Many_members_reading_at_once_reach_the_sender_in_few_envelopes_and_every_tick_turns_read()
    {
        var tap = new FrameTap();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Limits.RegistrationsPerMinutePerAddress = 100_000;
            o.Limits.BundleFetchesPerMinute = 100_000;
        }, s => s.AddSingleton<IFrameObserver>(tap));
        var alice = await server.RegisterAsync("alice");
        var readers = new RawDevice[Readers];
        try
        {
            await Parallel.ForAsync(0, Readers, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            {
                readers[i] = await RawDevice.RegisterAsync(server.BaseUri, $"r{i:D3}");
                await readers[i].UploadKeysAsync(IdentityKeyPair.Generate());
            });
            var group = await alice.CreateGroupAsync("Readers", [.. readers.Select(r => r.Credentials.User)], Wait.Token());
            var id = await alice.SendGroupTextAsync(group.Id, "read me", Wait.Token());
            await alice.DisconnectAsync();

            // Every member reads at once; each OK means its receipt is durable.
            var read = new ReadReceipt { Peer = "alice", GroupId = ByteString.CopyFrom(Convert.FromHexString(group.Id)) };
            read.MessageIds.Add(ByteString.CopyFrom(MessageId.Parse(id)!));
            var answers = await Task.WhenAll(readers.Select(r => r.RequestAsync(new ClientFrame { Read = read.Clone() })));
            Assert.All(answers, a => Assert.Equal(ServerFrame.BodyOneofCase.Ok, a.BodyCase));

            var ticks = new Inbox(alice);
            await alice.ConnectAsync(Wait.Token());
            await alice.SyncAsync(Wait.Token());
            await ticks.StatusAsync(id, MessageStatus.Read);
            Assert.Equal(Readers, alice.GetMemberReceipts(id).Count);
            Assert.All(alice.GetMemberReceipts(id), r => Assert.Equal(MessageStatus.Read, r.Status));

            var envelopes = tap.Frames.Where(f => !f.Inbound)
                .Select(f => ServerFrame.Parser.ParseFrom(f.Bytes))
                .Where(f => f.BodyCase == ServerFrame.BodyOneofCase.Envelope && f.Envelope.Kind == EnvelopeKind.ReadReceipt)
                .Select(f => f.Envelope)
                .ToList();
            // Every reader is named exactly once across the envelopes, in far fewer envelopes than readers.
            var named = envelopes.SelectMany(e => e.Receipts.Count > 0 ? e.Receipts.Select(r => r.Reader) : [e.Sender]).Order().ToList();
            Assert.Equal(readers.Select(r => r.Credentials.User).Order(), named);
            output.WriteLine($"{envelopes.Count} READ receipt envelopes reached alice's device for {Readers} readers");
            Assert.True(envelopes.Count <= Readers / 4, $"{envelopes.Count} READ receipt envelopes for {Readers} readers");
        }
        finally
        {
            foreach (var reader in readers.Where(r => r is not null))
            {
                await reader.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Many_members_acking_a_group_message_at_once_reach_the_sender_in_few_envelopes_and_every_tick_turns_delivered()
    {
        var tap = new FrameTap();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Limits.RegistrationsPerMinutePerAddress = 100_000;
            o.Limits.BundleFetchesPerMinute = 100_000;
        }, s => s.AddSingleton<IFrameObserver>(tap));
        var alice = await server.RegisterAsync("alice");
        var members = new RawDevice[Readers];
        try
        {
            await Parallel.ForAsync(0, Readers, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            {
                members[i] = await RawDevice.RegisterAsync(server.BaseUri, $"m{i:D3}");
                await members[i].UploadKeysAsync(IdentityKeyPair.Generate());
            });
            var group = await alice.CreateGroupAsync("Ackers", [.. members.Select(r => r.Credentials.User)], Wait.Token());
            var id = await alice.SendGroupTextAsync(group.Id, "ack me", Wait.Token());
            await alice.DisconnectAsync();

            // Every member acks the group message at once; each AckResult means its receipt is durable.
            var messageId = ByteString.CopyFrom(MessageId.Parse(id)!);
            var seqs = new ulong[Readers];
            for (int i = 0; i < Readers; i++)
            {
                var member = members[i];
                await Wait.UntilAsync(() => member.Envelopes.Any(e => e.MessageId == messageId && !e.GroupId.IsEmpty), $"{member.Credentials.User} gets the group message");
                seqs[i] = member.Envelopes.First(e => e.MessageId == messageId && !e.GroupId.IsEmpty).Seq;
            }
            var answers = await Task.WhenAll(members.Select((m, i) => m.RequestAsync(new ClientFrame { Ack = new Ack { Seqs = { seqs[i] } } })));
            Assert.All(answers, a => Assert.Equal(1u, a.AckResult.Acked));

            var ticks = new Inbox(alice);
            await alice.ConnectAsync(Wait.Token());
            await alice.SyncAsync(Wait.Token());
            await ticks.StatusAsync(id, MessageStatus.Delivered);
            Assert.Equal(Readers, alice.GetMemberReceipts(id).Count);
            Assert.All(alice.GetMemberReceipts(id), r => Assert.Equal(MessageStatus.Delivered, r.Status));

            var envelopes = tap.Frames.Where(f => !f.Inbound)
                .Select(f => ServerFrame.Parser.ParseFrom(f.Bytes))
                .Where(f => f.BodyCase == ServerFrame.BodyOneofCase.Envelope && f.Envelope.Kind == EnvelopeKind.DeliveryReceipt && !f.Envelope.GroupId.IsEmpty)
                .Select(f => f.Envelope)
                .ToList();
            // Every member is named exactly once across the envelopes, in far fewer envelopes than members.
            var named = envelopes.SelectMany(e => e.Receipts.Count > 0 ? e.Receipts.Select(r => r.Reader) : [e.Sender]).Order().ToList();
            Assert.Equal(members.Select(r => r.Credentials.User).Order(), named);
            output.WriteLine($"{envelopes.Count} DELIVERY receipt envelopes reached alice's device for {Readers} members");
            Assert.True(envelopes.Count <= Readers / 4, $"{envelopes.Count} DELIVERY receipt envelopes for {Readers} members");
        }
        finally
        {
            foreach (var member in members.Where(r => r is not null))
            {
                await member.DisposeAsync();
            }
        }
    }
}
