namespace Parley.Server.Devices;

/// <summary>One waiting link request: who asks, until when, and the one answer (a sealed envelope) once given.</summary>
public sealed class ProvisioningChannel(string id, string deviceName, DateTimeOffset expiresAt)
{
    private readonly TaskCompletionSource<string> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Id { get; } = id;

    public string DeviceName { get; } = deviceName;

    public DateTimeOffset ExpiresAt { get; } = expiresAt;

    /// <summary>Completes with the sealed envelope when a device answers.</summary>
    public Task<string> Answer => _answer.Task;

    /// <summary>Gives the answer; false when the channel was answered already (a code works once).</summary>
    public bool TryAnswer(string envelope) => _answer.TrySetResult(envelope);
}
