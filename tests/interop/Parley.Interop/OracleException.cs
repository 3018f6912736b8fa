namespace Parley.Interop;

/// <summary>libsignal refused a request; <see cref="Kind"/> is its error code or class name.</summary>
internal sealed class OracleException(string kind, string message) : Exception($"libsignal {kind}: {message}")
{
    public string Kind { get; } = kind;
}
