using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Components.WebAssembly.Services;
using QRCoder;

namespace Parley.Web.Safety;

/// <summary>
/// QR codes as PNG data URLs. QRCoder is a lazily loaded assembly: only the link and safety-number
/// screens draw codes, so it is fetched on the first one instead of with the first load (its 43 KB
/// brotli kept the first load over its 3 MB budget).
/// </summary>
public sealed class QrImage(LazyAssemblyLoader loader)
{
    private Task? _loaded;

    /// <summary>A PNG data URL of <paramref name="text"/> (error correction M, 6 pixels a module); loads QRCoder first.</summary>
    public async Task<string> PngDataUrlAsync(string text)
    {
        await (_loaded ??= loader.LoadAssembliesAsync(["QRCoder.wasm"]));
        return Draw(text);
    }

    // Apart from the loading method, so that nothing touches QRCoder's types before it is loaded.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static string Draw(string text) =>
        "data:image/png;base64," + Convert.ToBase64String(PngByteQRCodeHelper.GetQRCode(text, QRCodeGenerator.ECCLevel.M, 6));
}
