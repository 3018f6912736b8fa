using Parley.Client;
using Parley.Client.Devices;

namespace Parley.Web.Session;

// Linking this browser as a new device of an existing account: the SDK's link request over the
// browser's store; the account's primary approves the code (`parley link approve CODE`).
public sealed partial class ChatSession
{
    /// <summary>The name this browser asks to be listed under on the account's devices.</summary>
    public const string LinkedDeviceName = "Parley Web";

    /// <summary>
    /// Opens a link request for this browser: the code and fingerprint to show, or null when the
    /// server refused (why in <see cref="LinkProblem"/>) or cannot be reached (the error screen).
    /// Cancel <paramref name="cancellationToken"/> to give the request up.
    /// </summary>
    public async Task<LinkRequest?> RequestLinkAsync(CancellationToken cancellationToken)
    {
        LinkProblem = null;
        try
        {
            var persistence = _persistence ?? throw new InvalidOperationException("The store is not open.");
            return await ParleyClient.RequestLinkAsync(persistence, Server, LinkedDeviceName, cancellationToken: cancellationToken);
        }
        catch (ParleyException e)
        {
            LinkProblem = e.Message;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Fail(AppScreen.ServerUnreachable, e.Message);
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            Fail(AppScreen.StorageFull, e.Message);
        }
        return null;
    }

    /// <summary>Why the last link request or wait failed, in words for people (an expired code, a bad answer).</summary>
    public string? LinkProblem { get; private set; }

    /// <summary>
    /// Waits until a device of the account approves <paramref name="request"/>, then shows the
    /// account's chats and connects. Returns false (with <see cref="LinkProblem"/>) when the code
    /// expired or the answer was refused; throws <see cref="OperationCanceledException"/> when given up.
    /// </summary>
    public async Task<bool> CompleteLinkAsync(LinkRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        LinkProblem = null;
        try
        {
            await AttachAsync(await request.Linked);
            return true;
        }
        catch (ParleyException e)
        {
            LinkProblem = e.ApiCode == "link_code_expired" ? "The code expired before it was approved: ask for a new one." : e.Message;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException { InnerException: TimeoutException })
        {
            LinkProblem = $"The server could not be reached while waiting: {e.Message}";
        }
        catch (Exception e) when (IsStorageFailure(e))
        {
            Fail(AppScreen.StorageFull, e.Message);
        }
        return false;
    }
}
