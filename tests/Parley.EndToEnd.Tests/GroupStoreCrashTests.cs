using Parley.Client;
using Parley.Crypto.Keys;
using Parley.Protocol;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Group messages without a queue row per recipient, against a real server process that is
/// SIGKILLed: what each device owes is rebuilt from the stored recipient sets and the persisted
/// per-device marks, and acks lost with the process come back as redeliveries the client drops.
/// </summary>
public sealed class GroupStoreCrashTests
{
    [Fact]
    public Task Group_messages_to_an_offline_member_survive_a_kill_after_SENT_and_arrive_once_in_order_with_one_to_one_messages_around_them() =>
        CrashTests.WithServerAsync([], async (server, alice, bob) =>
        {
            var group = await alice.CreateGroupAsync("Crash", ["bob"], Wait.Token());
            await bob.DisconnectAsync();
            var sent = new List<string>
            {
                await alice.SendTextAsync("bob", "one", Wait.Token()),
                await alice.SendGroupTextAsync(group.Id, "g1", Wait.Token()),
                await alice.SendTextAsync("bob", "two", Wait.Token()),
                await alice.SendGroupTextAsync(group.Id, "g2", Wait.Token()),
            };
            await server.KillAsync(); // at once after the last SENT: SIGKILL, nothing flushed on the way out

            await server.RestartAsync();
            var inbox = new Inbox(bob);
            await bob.SyncAsync(Wait.Token());
            Assert.Equal(["one", "g1", "two", "g2"], inbox.Texts);
            Assert.Equal(sent, inbox.Messages.Select(m => m.Id));
        });

    [Fact]
    public Task Group_acks_lost_in_a_kill_bring_the_messages_again_and_the_client_shows_each_once() =>
        // Acks stay in memory far longer than the test runs: the kill always falls within the interval.
        CrashTests.WithServerAsync(["--Parley:Storage:FanoutAckFlushMs=600000"], async (server, alice, bob) =>
        {
            await using var carol = await RawDevice.RegisterAsync(server.BaseUri, "carol");
            await carol.UploadKeysAsync(IdentityKeyPair.Generate());
            var group = await alice.CreateGroupAsync("Acks", ["bob", "carol"], Wait.Token());
            var ticks = new Inbox(alice);
            var inbox = new Inbox(bob);
            await bob.SyncAsync(Wait.Token());
            var ids = new[]
            {
                await alice.SendGroupTextAsync(group.Id, "g1", Wait.Token()),
                await alice.SendGroupTextAsync(group.Id, "g2", Wait.Token()),
            };
            await inbox.CountAsync(2);
            await Wait.UntilAsync(() => carol.Envelopes.Count(e => e.Kind == EnvelopeKind.Message && e.GroupId.Length > 0) >= 2, "carol has both");
            var carolSeqs = carol.Envelopes.Where(e => e.Kind == EnvelopeKind.Message && e.GroupId.Length > 0).Select(e => e.Seq).ToList();
            var ack = await carol.RequestAsync(new ClientFrame { Ack = new Ack { Seqs = { carol.Envelopes.Select(e => e.Seq) } } });
            Assert.Equal(ServerFrame.BodyOneofCase.AckResult, ack.BodyCase);
            // DELIVERED from every member device: bob's acks are committed too (with their receipts).
            foreach (var id in ids)
            {
                await ticks.StatusAsync(id, MessageStatus.Delivered);
            }
            await server.KillAsync();

            await server.RestartAsync();
            // The server delivers both again: carol, a raw device, sees them once more.
            var again = await RawDevice.ConnectAsync(server.BaseUri, carol.Credentials);
            await using (again)
            {
                await Wait.UntilAsync(() => again.Envelopes.Count(e => e.Kind == EnvelopeKind.Message && e.GroupId.Length > 0) >= 2, "carol gets both again");
                Assert.Equal(carolSeqs, again.Envelopes.Where(e => e.Kind == EnvelopeKind.Message && e.GroupId.Length > 0).Select(e => e.Seq));
            }
            // Bob's client receives them again too (before g3, in seq order) and shows each once.
            var g3 = await alice.SendGroupTextAsync(group.Id, "g3", Wait.Token());
            await inbox.CountAsync(3);
            await bob.SyncAsync(Wait.Token());
            Assert.Equal(["g1", "g2", "g3"], inbox.Texts);
            Assert.Equal([.. ids, g3], inbox.Messages.Select(m => m.Id));
        });
}
