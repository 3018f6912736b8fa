namespace Parley.Web.Files;

/// <summary>Where a file shown in a chat stands: on its way out, on its way in, or ready to view and save.</summary>
public enum FilePhase
{
    /// <summary>Received: the pointer is here, the bytes are still on the server (the user may fetch them).</summary>
    Offered = 0,

    /// <summary>Being read from the picked file into the app.</summary>
    Reading = 1,

    /// <summary>Being encrypted with a fresh key (the SDK reports no progress for this step).</summary>
    Encrypting = 2,

    /// <summary>Ciphertext going to the server's media store.</summary>
    Uploading = 3,

    /// <summary>Ciphertext coming from the server's media store.</summary>
    Downloading = 4,

    /// <summary>Being verified (digest, MAC) and decrypted.</summary>
    Decrypting = 5,

    /// <summary>The plaintext is in the page: previewed (images) and offered to save.</summary>
    Ready = 6,

    /// <summary>The transfer failed; <see cref="FileCard.Problem"/> says why and the user may try again.</summary>
    Failed = 7,
}
