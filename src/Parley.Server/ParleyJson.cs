using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Parley.Protocol;

namespace Parley.Server;

/// <summary>The JSON conventions of the HTTP API: snake_case, bounded bodies.</summary>
public static class ParleyJson
{
    /// <summary>The largest JSON body a call takes unless it says otherwise: every request body of the API is far smaller.</summary>
    private const int MaxBodyBytes = 16 * 1024;

    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Error messages are read by people (curl, logs): no \u0027 for an apostrophe. Safe here because
        // every body goes out as application/json and is never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Reads a small JSON body. Value is null with no refusal when there is no body (the caller
    /// decides whether that is allowed); a body over the size limit is refused with 413 <c>too_large</c>,
    /// and one that is not a JSON object of T's fields with 400 <c>bad_request</c>, saying which.
    /// </summary>
    public static async Task<(T? Value, IResult? Refusal)> ReadAsync<T>(HttpContext http, int maxBytes = MaxBodyBytes) where T : class
    {
        if (http.Request.ContentLength > maxBytes)
        {
            return (null, TooLarge(maxBytes));
        }
        using var limited = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
        {
            if (limited.Length + n > maxBytes)
            {
                return (null, TooLarge(maxBytes));
            }
            limited.Write(buffer, 0, n);
        }
        if (limited.Length == 0)
        {
            return (null, null);
        }
        try
        {
            return JsonSerializer.Deserialize<T>(limited.GetBuffer().AsSpan(0, (int)limited.Length), Options) is { } value
                ? (value, null)
                : (null, NotAnObject()); // the literal null
        }
        catch (JsonException)
        {
            return (null, NotAnObject());
        }
    }

    /// <summary>An error answer of the HTTP API: <c>{"code", "message"}</c> with <paramref name="status"/>.</summary>
    public static IResult Error(int status, string code, string message) =>
        Results.Json(new ApiError(code, message), Options, statusCode: status);

    private static IResult TooLarge(int maxBytes) =>
        Error(StatusCodes.Status413PayloadTooLarge, "too_large", $"this call's body is at most {maxBytes} bytes of JSON");

    private static IResult NotAnObject() =>
        Error(StatusCodes.Status400BadRequest, "bad_request", "the body is not a JSON object of this request's fields (docs/protocol.md)");
}
