using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Parley.Server.Configuration;

namespace Parley.Server.Gateway;

/// <summary>Closes connections that sent nothing (not even a ping) for the idle timeout: one timer for all, not one each.</summary>
public sealed class IdleSweeper(ConnectionRegistry registry, IOptions<ParleyOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var idle = TimeSpan.FromSeconds(options.Value.Limits.IdleTimeoutSeconds);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Clamp(idle.TotalSeconds / 5, 1, 15)), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                long now = time.GetTimestamp();
                foreach (var connection in registry.Connections)
                {
                    if (time.GetElapsedTime(connection.LastActivityTimestamp, now) > idle)
                    {
                        connection.RequestClose(CloseCodes.Idle, "idle timeout");
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
