using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Parley.Server;

/// <summary>The JSON conventions of the HTTP API: snake_case, bounded bodies.</summary>
public static class ParleyJson
{
    private const int MaxBodyBytes = 16 * 1024;

    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Error messages are read by people (curl, logs): no \u0027 for an apostrophe. Safe here because
        // every body goes out as application/json and is never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Reads a small JSON body; null when it is missing, too large or not valid JSON for T.</summary>
    public static async Task<T?> ReadAsync<T>(HttpContext http) where T : class
    {
        if (http.Request.ContentLength is > MaxBodyBytes)
        {
            return null;
        }
        try
        {
            using var limited = new MemoryStream();
            var buffer = new byte[4096];
            int n;
            while ((n = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
            {
                if (limited.Length + n > MaxBodyBytes)
                {
                    return null;
                }
                limited.Write(buffer, 0, n);
            }
            if (limited.Length == 0)
            {
                return null;
            }
            return JsonSerializer.Deserialize<T>(limited.GetBuffer().AsSpan(0, (int)limited.Length), Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
