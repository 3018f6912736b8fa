using System.Security.Cryptography;

namespace Parley.Interop;

/// <summary>
/// A long two-way conversation over a lossy, reordering network: bursts alternate direction (each
/// turn a ratchet step), some messages are dropped, some are held back and delivered after the
/// next turn (old chains), and every delivered message must decrypt to what was sent.
/// </summary>
internal static class Conversation
{
    public sealed record Outcome(int Sent, int Delivered, int Dropped, int Delayed, int Turns, (Endpoint Receiver, int Type, byte[] Body) Replayable);

    public static async Task<Outcome> RunAsync(Endpoint first, Endpoint second, int messages, int seed)
    {
        var random = new Random(seed);
        var held = new Dictionary<Endpoint, List<(int Type, byte[] Body, byte[] Plaintext)>> { [first] = [], [second] = [] };
        (Endpoint sender, Endpoint receiver) = (first, second);
        int sent = 0, delivered = 0, dropped = 0, delayed = 0, turns = 0;
        (Endpoint, int, byte[]) replayable = default;

        while (sent < messages)
        {
            int burst = Math.Min(random.Next(1, 9), messages - sent);
            var now = new List<(int Type, byte[] Body, byte[] Plaintext)>();
            var later = new List<(int Type, byte[] Body, byte[] Plaintext)>();
            for (int i = 0; i < burst; i++, sent++)
            {
                byte[] plaintext = RandomNumberGenerator.GetBytes(random.Next(0, 200));
                (int type, byte[] body) = await sender.Encrypt(plaintext);
                double fate = random.NextDouble();
                if (fate < 0.07)
                {
                    dropped++;
                }
                else if (fate < 0.15)
                {
                    later.Add((type, body, plaintext));
                }
                else
                {
                    now.Add((type, body, plaintext));
                }
            }

            // The receiver must hear something each turn, or the other side cannot ratchet.
            if (now.Count == 0)
            {
                if (later.Count > 0)
                {
                    now.Add(later[0]);
                    later.RemoveAt(0);
                }
                else
                {
                    byte[] plaintext = [1];
                    (int type, byte[] body) = await sender.Encrypt(plaintext);
                    now.Add((type, body, plaintext));
                    sent++;
                }
            }

            now.AddRange(held[receiver]);
            held[receiver] = later;
            delayed += later.Count;
            var shuffled = now.ToArray();
            random.Shuffle(shuffled);
            foreach ((int type, byte[] body, byte[] plaintext) in shuffled)
            {
                byte[] decrypted = await receiver.Decrypt(type, body);
                CheckFailedException.UnlessEqual(plaintext, decrypted, $"message {delivered} from {sender.Name} (type {type})");
                delivered++;
                replayable = (receiver, type, body);
            }

            (sender, receiver) = (receiver, sender);
            turns++;
        }

        foreach ((Endpoint receiver2, List<(int Type, byte[] Body, byte[] Plaintext)> pending) in held)
        {
            foreach ((int type, byte[] body, byte[] plaintext) in pending)
            {
                byte[] decrypted = await receiver2.Decrypt(type, body);
                CheckFailedException.UnlessEqual(plaintext, decrypted, $"late message to {receiver2.Name}");
                delivered++;
            }
        }

        return new Outcome(sent, delivered, dropped, delayed, turns, replayable);
    }
}
