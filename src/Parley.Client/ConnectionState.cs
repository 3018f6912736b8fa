namespace Parley.Client;

/// <summary>The state of the client's link to the server.</summary>
public enum ConnectionState
{
    /// <summary>No connection, and none being made (stopped, or waiting out the backoff delay).</summary>
    Disconnected = 0,

    /// <summary>Opening the WebSocket and authenticating.</summary>
    Connecting = 1,

    /// <summary>Authenticated: requests can be made.</summary>
    Connected = 2,
}
