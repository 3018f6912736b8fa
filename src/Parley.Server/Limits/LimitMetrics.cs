using System.Diagnostics.Metrics;
using Parley.Server.Observability;

namespace Parley.Server.Limits;

/// <summary>
/// Refusals by the abuse limits, as the counter <c>parley.limits.refused</c> on the server's
/// meter with the tag <c>limit</c> (sender_rate, recipient_rate, new_contacts, queue_full,
/// prekey_fetch, hello_backoff, typing_forbidden, read_unknown). Counted only when a limit
/// refuses, so an accepted request costs nothing; never a user name or address as a tag.
/// </summary>
public sealed class LimitMetrics
{
    /// <summary>The counter's name.</summary>
    public const string RefusedName = "parley.limits.refused";

    // One tag array per kind, made once: a refusal adds to the counter without allocating.
    private static readonly KeyValuePair<string, object?>[][] Tags =
    [
        [new("limit", "sender_rate")], [new("limit", "recipient_rate")], [new("limit", "new_contacts")], [new("limit", "queue_full")],
        [new("limit", "prekey_fetch")], [new("limit", "hello_backoff")], [new("limit", "typing_forbidden")], [new("limit", "read_unknown")],
    ];

    private readonly Counter<long> _refused;

    /// <summary>Creates the counter on the <see cref="ServerMetrics.MeterName"/> meter from <paramref name="meters"/>.</summary>
    public LimitMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _refused = meters.Create(ServerMetrics.MeterName).CreateCounter<long>(RefusedName, "{refusal}", "Requests an abuse limit refused, by limit");
    }

    /// <summary>Counts one refusal by <paramref name="kind"/>.</summary>
    public void Refused(LimitKind kind) => _refused.Add(1, Tags[(int)kind]);
}
