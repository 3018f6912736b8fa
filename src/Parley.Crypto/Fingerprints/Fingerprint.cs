namespace Parley.Crypto.Fingerprints;

/// <summary>
/// The safety number of one conversation as seen by the local party: the 60 digits both sides
/// read out, and the scannable form one side shows as a QR code for the other to compare.
/// </summary>
public sealed class Fingerprint
{
    internal Fingerprint(DisplayableFingerprint displayable, ScannableFingerprint scannable)
    {
        Displayable = displayable;
        Scannable = scannable;
    }

    /// <summary>The 60-digit number, identical on both sides when the identity keys match.</summary>
    public DisplayableFingerprint Displayable { get; }

    /// <summary>The QR-code form; matches the other side's when the identity keys match.</summary>
    public ScannableFingerprint Scannable { get; }
}
