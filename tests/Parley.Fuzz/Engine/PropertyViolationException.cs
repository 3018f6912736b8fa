namespace Parley.Fuzz.Engine;

/// <summary>Thrown by a target when an input broke the property without an exception of its own (a hang, a 500, an INTERNAL error...).</summary>
public sealed class PropertyViolationException : Exception
{
    public PropertyViolationException()
    {
    }

    public PropertyViolationException(string message)
        : base(message)
    {
    }

    public PropertyViolationException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
