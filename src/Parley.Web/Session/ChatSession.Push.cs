using System.Buffers.Text;
using Microsoft.JSInterop;
using Parley.Client;
using Parley.Web.Push;

namespace Parley.Web.Session;

// Notifications when the tab is closed: wwwroot/service-worker.js receives the server's Web Push
// and shows "New message" with no content; the app subscribes with the server's VAPID key once the
// user allows notifications, and stores the subscription with the server through the SDK.
public sealed partial class ChatSession
{
    private IJSObjectReference? _pushModule;

    /// <summary>Where notifications stand in this browser.</summary>
    public PushState Push { get; private set; }

    /// <summary>Why notifications are unavailable or could not be turned on, when that happened.</summary>
    public string? PushProblem { get; private set; }

    /// <summary>
    /// Asks the user for permission and, when given, subscribes this browser to Web Push with the
    /// server's VAPID key and stores the subscription with the server (one per device).
    /// </summary>
    public async Task TurnOnNotificationsAsync()
    {
        if (_client is not { } client || _pushModule is not { } module)
        {
            return;
        }
        PushProblem = null;
        try
        {
            var server = await client.GetPushAsync();
            var answer = await module.InvokeAsync<string[]>("subscribe", server.VapidPublicKey);
            if (answer is not ["granted", var endpoint, var p256dh, var auth])
            {
                Push = answer is ["denied", ..] ? PushState.Blocked : PushState.Off;
                return;
            }
            await client.SetWebPushAsync(new Uri(endpoint), Base64Url.DecodeFromChars(p256dh), Base64Url.DecodeFromChars(auth));
            Push = PushState.On;
        }
        catch (JSException e)
        {
            // Typically no push service: a browser without one (headless, some privacy modes) refuses to subscribe.
            Push = PushState.Unavailable;
            PushProblem = e.Message;
        }
        catch (Exception e) when (e is ParleyException or FormatException or ArgumentException)
        {
            PushProblem = e.Message;
        }
        finally
        {
            Notify();
        }
    }

    // Registers the service worker at every start, so a changed worker is installed.
    private async Task StartPushAsync()
    {
        try
        {
            _pushModule ??= await _js.InvokeAsync<IJSObjectReference>("import", "./js/push.js");
            Push = Enum.Parse<PushState>(await _pushModule.InvokeAsync<string>("register"));
        }
        catch (JSException e)
        {
            Push = PushState.Unavailable;
            PushProblem = e.Message;
        }
        Notify();
    }

    private async Task ReleasePushAsync()
    {
        if (_pushModule is not null)
        {
            await _pushModule.DisposeAsync();
        }
    }
}
