using Google.Protobuf;
using Parley.Protocol;

namespace Parley.EndToEnd.Tests;

/// <summary>Group state and group messages against a real server process that is killed.</summary>
public sealed class GroupCrashTests
{
    [Fact]
    public async Task A_group_message_acknowledged_as_sent_survives_a_server_kill_and_reaches_every_member()
    {
        var root = Path.Combine(Path.GetTempPath(), "parley-group-crash-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var server = await ServerProcess.StartAsync(Path.Combine(root, "data"));
            DeviceCredentials bob, carol;
            ByteString groupId;
            var id = ByteString.CopyFrom(MessageId.New());
            await using (var alice = await RawDevice.RegisterAsync(server.BaseUri, "alice"))
            {
                await using (var b = await RawDevice.RegisterAsync(server.BaseUri, "bob"))
                await using (var c = await RawDevice.RegisterAsync(server.BaseUri, "carol"))
                {
                    (bob, carol) = (b.Credentials, c.Credentials);
                }
                var created = await alice.RequestAsync(new ClientFrame { CreateGroup = new CreateGroup { Members = { "bob", "carol" } } });
                groupId = created.GroupState.GroupId;
                var send = new SendGroupMessage { MessageId = id, GroupId = groupId, SentAt = 1, Body = ByteString.CopyFromUtf8("durable") };
                send.Devices.Add(new DeviceList { User = "bob", DeviceIds = { 1 } });
                send.Devices.Add(new DeviceList { User = "carol", DeviceIds = { 1 } });
                var sent = await alice.RequestAsync(new ClientFrame { SendGroup = send });
                Assert.Equal(ServerFrame.BodyOneofCase.SendResult, sent.BodyCase);
                await server.KillAsync(); // at once after SENT: SIGKILL, nothing flushed on the way out
            }

            await server.RestartAsync();
            foreach (var member in new[] { bob, carol })
            {
                await using var device = await RawDevice.ConnectAsync(server.BaseUri, member);
                await Wait.UntilAsync(() => device.Envelopes.Any(e => e.Kind == EnvelopeKind.Message), $"{member.User} gets the group message");
                var envelopes = device.Envelopes;
                Assert.Equal([EnvelopeKind.GroupChange, EnvelopeKind.Message], envelopes.Select(e => e.Kind));
                Assert.Equal(groupId, envelopes[1].GroupId);
                Assert.Equal(id, envelopes[1].MessageId);
                Assert.Equal("durable", envelopes[1].Payload.ToStringUtf8());
                var state = await device.RequestAsync(new ClientFrame { GetGroup = new GetGroup { GroupId = groupId } });
                Assert.Equal(["alice", "bob", "carol"], state.GroupState.Members.Select(m => m.User).Order());
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
