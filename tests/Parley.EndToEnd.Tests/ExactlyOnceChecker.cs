using System.Collections.Concurrent;
using System.Globalization;

namespace Parley.EndToEnd.Tests;

/// <summary>
/// Proves the delivery promise over a crash loop: every message that got SENT is shown exactly
/// once to its recipient, each sender's messages are shown in the order they were sent, and no
/// message (SENT or not) is shown twice or shown without having been sent. Message texts carry
/// their identity: "SENDER>RECIPIENT#SEQ", with SEQ counting up per sender and recipient.
/// </summary>
public sealed class ExactlyOnceChecker
{
    private readonly ConcurrentDictionary<string, bool> _sent = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<(string Id, string Text)>> _shown = new();

    /// <summary>The text of the <paramref name="seq"/>th message from <paramref name="sender"/> to <paramref name="recipient"/>.</summary>
    public static string Text(string sender, string recipient, int seq) => $"{sender}>{recipient}#{seq.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A message was handed to the SDK (it is in the outbox).</summary>
    public void Written(string text) => _sent.TryAdd(text, false);

    /// <summary>The SDK reported the message SENT (durable on the server).</summary>
    public void Acknowledged(string text) => _sent[text] = true;

    /// <summary><paramref name="recipient"/>'s app showed a message (in the order shown).</summary>
    public void Shown(string recipient, string id, string text) => _shown.GetOrAdd(recipient, _ => new()).Enqueue((id, text));

    public int WrittenCount => _sent.Count;

    public int AcknowledgedCount => _sent.Count(s => s.Value);

    public int ShownCount => _shown.Values.Sum(q => q.Count);

    /// <summary>Every broken promise, described; empty when the run kept them all.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        var counts = new Dictionary<string, int>();
        var ids = new Dictionary<string, int>();
        foreach (var (recipient, shown) in _shown)
        {
            var lastSeq = new Dictionary<string, int>();
            foreach (var (id, text) in shown)
            {
                counts[text] = counts.GetValueOrDefault(text) + 1;
                ids[id] = ids.GetValueOrDefault(id) + 1;
                if (!_sent.ContainsKey(text))
                {
                    problems.Add($"{recipient} was shown \"{text}\", which nobody sent");
                    continue;
                }
                int hash = text.LastIndexOf('#');
                var stream = text[..hash];
                if (!stream.EndsWith(">" + recipient, StringComparison.Ordinal))
                {
                    problems.Add($"{recipient} was shown \"{text}\", meant for someone else");
                }
                int seq = int.Parse(text[(hash + 1)..], CultureInfo.InvariantCulture);
                if (lastSeq.TryGetValue(stream, out int last) && seq <= last)
                {
                    problems.Add($"{recipient} was shown \"{text}\" after #{last}: out of order");
                }
                lastSeq[stream] = Math.Max(seq, last);
            }
        }
        foreach (var (text, acknowledged) in _sent)
        {
            int n = counts.GetValueOrDefault(text);
            if (acknowledged && n != 1)
            {
                problems.Add($"\"{text}\" got SENT but was shown {n} times");
            }
            else if (n > 1)
            {
                problems.Add($"\"{text}\" never got SENT but was shown {n} times");
            }
        }
        problems.AddRange(ids.Where(i => i.Value > 1).Select(i => $"message id {i.Key} was shown {i.Value} times"));
        return problems;
    }
}
