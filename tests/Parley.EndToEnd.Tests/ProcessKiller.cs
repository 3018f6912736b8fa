using System.Diagnostics;

namespace Parley.EndToEnd.Tests;

/// <summary>Kills a started process (and its children) on dispose unless it has exited: a failing test leaves nothing running.</summary>
public sealed class ProcessKiller(Process process) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Already disposed or never started.
        }
    }
}
