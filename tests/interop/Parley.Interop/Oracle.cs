using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Parley.Interop;

/// <summary>
/// The libsignal side: a node process running oracle.js, spoken to in JSON lines over
/// stdin/stdout, one request at a time. Byte strings travel as base64.
/// </summary>
internal sealed class Oracle : IAsyncDisposable
{
    private readonly Process _process;
    private int _nextId;

    private Oracle(Process process)
    {
        _process = process;
    }

    public static Oracle Start(string scriptPath)
    {
        var start = new ProcessStartInfo("node", [scriptPath])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(scriptPath))!,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        return new Oracle(process);
    }

    /// <summary>Sends one request and returns its result, or throws <see cref="OracleException"/> with libsignal's error.</summary>
    public async Task<JsonObject> CallAsync(string op, JsonObject? arguments = null)
    {
        int id = ++_nextId;
        var request = arguments is null ? new JsonObject() : (JsonObject)arguments.DeepClone();
        request["id"] = id;
        request["op"] = op;
        await _process.StandardInput.WriteLineAsync(request.ToJsonString()).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
        string? line = await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false)
            ?? throw new InvalidOperationException("the oracle exited");
        JsonObject reply = JsonNode.Parse(line)!.AsObject();
        if (reply["id"]!.GetValue<int>() != id)
        {
            throw new InvalidOperationException($"oracle answered request {reply["id"]} to {id}");
        }

        if (!reply["ok"]!.GetValue<bool>())
        {
            throw new OracleException(reply["kind"]?.GetValue<string>() ?? "", reply["error"]?.GetValue<string>() ?? "");
        }

        return reply["result"]!.AsObject();
    }

    public static string B64(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes);

    public static byte[] Bytes(JsonObject result, string name) => Convert.FromBase64String(result[name]!.GetValue<string>());

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        await _process.WaitForExitAsync().ConfigureAwait(false);
        _process.Dispose();
    }
}
