namespace Parley.Web.Push;

/// <summary>Where notifications for a closed tab stand in this browser.</summary>
public enum PushState
{
    /// <summary>Not known yet (the service worker is being registered).</summary>
    Unknown = 0,

    /// <summary>Possible, not turned on: the user may turn them on.</summary>
    Off = 1,

    /// <summary>Subscribed, and the subscription is stored with the server.</summary>
    On = 2,

    /// <summary>The user (or the browser's settings) refused notifications for this site.</summary>
    Blocked = 3,

    /// <summary>This browser cannot receive Web Push (no service workers, no push service, or subscribing failed).</summary>
    Unavailable = 4,
}
