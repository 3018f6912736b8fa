using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;

namespace Parley.Bench.Scenarios;

/// <summary>The parent's handle on one <see cref="ConnectionsWorker"/> child process.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _answers = Channel.CreateUnbounded<string>();
    private volatile string? _lastError;

    private WorkerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => _lastError = e.Data ?? _lastError;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Open { get; private set; }

    public int Refused { get; private set; }

    public int Failed { get; private set; }

    public bool Ready { get; private set; }

    public string? FirstFailure { get; private set; }

    public bool Exited => _process.HasExited;

    public string? LastError => _lastError;

    /// <summary>Re-executes this program with the hidden worker verb for users [from, from+count) of the credentials file.</summary>
    public static WorkerProcess Start(Uri server, string credsFile, int from, int count, string sourceAddress)
    {
        // Run as the apphost when there is one; under `dotnet Parley.Bench.dll` run the dll again.
        var self = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(WorkerProcess).Assembly.Location);
        }
        foreach (var arg in new[]
                 {
                     ConnectionsWorker.Verb, "--server", server.ToString(), "--creds", credsFile,
                     "--from", from.ToString(CultureInfo.InvariantCulture), "--count", count.ToString(CultureInfo.InvariantCulture),
                     "--source", sourceAddress,
                 })
        {
            psi.ArgumentList.Add(arg);
        }
        return new WorkerProcess(Process.Start(psi) ?? throw new InvalidOperationException("could not start a connections worker"));
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        if (line.StartsWith("PROGRESS ", StringComparison.Ordinal) || line.StartsWith("READY ", StringComparison.Ordinal))
        {
            Open = Value(line, "open");
            Refused = Value(line, "refused");
            Failed = Value(line, "failed");
            var failure = line.IndexOf(" first_failure=", StringComparison.Ordinal);
            if (failure >= 0)
            {
                FirstFailure = line[(failure + " first_failure=".Length)..].Replace('_', ' ');
            }
            Ready |= line.StartsWith("READY ", StringComparison.Ordinal);
        }
        else
        {
            _answers.Writer.TryWrite(line);
        }
    }

    /// <summary>Sends a command and returns the first answer line starting with <paramref name="prefix"/>.</summary>
    public async Task<string> AskAsync(string command, string prefix, CancellationToken ct)
    {
        await _process.StandardInput.WriteLineAsync(command.AsMemory(), ct);
        await _process.StandardInput.FlushAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            var line = await _answers.Reader.ReadAsync(timeout.Token);
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }
        }
    }

    /// <summary>The integer after <c>key=</c> in a worker line, or 0.</summary>
    public static int Value(string line, string key)
    {
        foreach (var part in line.Split(' '))
        {
            if (part.StartsWith(key + "=", StringComparison.Ordinal) && int.TryParse(part.AsSpan(key.Length + 1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            {
                return v;
            }
        }
        return 0;
    }

    /// <summary>Asks the worker to close its connections and exit; kills it if it has not within 60 s.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }
        try
        {
            await _process.StandardInput.WriteLineAsync("QUIT");
            await _process.StandardInput.FlushAsync();
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // it is already going
        }
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await _process.WaitForExitAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
    }

    public void Dispose() => _process.Dispose();
}
