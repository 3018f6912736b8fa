namespace Parley.Client.Media;

/// <summary>Which way an attachment's bytes are moving.</summary>
public enum TransferDirection
{
    /// <summary>Ciphertext going to the media store.</summary>
    Upload,

    /// <summary>Ciphertext coming from the media store.</summary>
    Download,
}
