namespace Parley.Bench.Wire;

/// <summary>The server refused a connection because it is full (HTTP 503, close 1013 or Error UNAVAILABLE).</summary>
internal sealed class ServerFullException : Exception
{
    public ServerFullException()
    {
    }

    public ServerFullException(string message)
        : base(message)
    {
    }

    public ServerFullException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
