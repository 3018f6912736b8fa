using System.Runtime.CompilerServices;

namespace Parley.Tests;

/// <summary>
/// Keeps socket completions off the runtime's epoll threads in test processes that host servers
/// in-process (Parley:InlineSocketCompletions, on by default, sets the variable only when unset).
/// Here the test code shares the process's sockets: its continuations would run on those threads
/// too, and a test that then advances a FakeTimeProvider runs the server's timers (WAL checkpoints,
/// expiry sweeps) right there, stalling every socket of the process for seconds. Servers started
/// as processes of their own (ServerProcess) run the default; their start info drops the variable.
/// </summary>
internal static class InProcessServers
{
    [ModuleInitializer]
    internal static void KeepSocketCompletionsOnTheThreadPool() =>
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "0");
}
