using Parley.Protocol;

namespace Parley.Client;

/// <summary>
/// A failure reported by the server (an <c>Error</c> frame or an HTTP error body) or a lost connection,
/// carrying the wire <see cref="ErrorCode"/> so callers can react to the kind of failure, not its text.
/// </summary>
public sealed class ParleyException : Exception
{
    public ParleyException()
        : this(ErrorCode.Internal, "Parley request failed.")
    {
    }

    public ParleyException(string message)
        : this(ErrorCode.Internal, message)
    {
    }

    public ParleyException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = ErrorCode.Internal;
    }

    /// <summary>Creates an exception for <paramref name="code"/> with a human-readable message.</summary>
    public ParleyException(ErrorCode code, string message, string? apiCode = null, TimeSpan? retryAfter = null, IReadOnlyList<DeviceList>? devices = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        ApiCode = apiCode;
        RetryAfter = retryAfter;
        Devices = devices ?? [];
    }

    /// <summary>The wire error code; <see cref="ErrorCode.Unavailable"/> also stands for a lost connection.</summary>
    public ErrorCode Code { get; }

    /// <summary>The snake_case code of an HTTP error body (for example <c>user_taken</c>), when the failure came over HTTP.</summary>
    public string? ApiCode { get; }

    /// <summary>For <see cref="ErrorCode.RateLimited"/>: how long the server asked us to wait.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>For <see cref="ErrorCode.StaleDevices"/>: the server's current device lists.</summary>
    public IReadOnlyList<DeviceList> Devices { get; } = [];

    /// <summary>True when the connection dropped before an answer came; the request may be retried on the next connection.</summary>
    public bool IsConnectionLost => Code == ErrorCode.Unavailable;

    internal static ParleyException FromError(Error error) => new(
        error.Code,
        string.IsNullOrEmpty(error.Message) ? error.Code.ToString() : error.Message,
        retryAfter: error.Code == ErrorCode.RateLimited ? TimeSpan.FromMilliseconds(error.RetryAfterMs) : null,
        devices: [.. error.Devices]);

    internal static ParleyException ConnectionLost(string why) => new(ErrorCode.Unavailable, why);
}
