using Parley.Client.Media;

namespace Parley.Client.Tests;

/// <summary>A file name from a peer becomes a local name that is what it looks like, and stays in its folder.</summary>
public sealed class AttachmentFilesTests
{
    [Theory]
    [InlineData("photo.jpg", "photo.jpg")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("..\\..\\boot.ini", "boot.ini")]
    [InlineData("..", "attachment")]
    [InlineData(".hidden", "hidden")]
    [InlineData("a:b.txt", "a_b.txt")]
    [InlineData("bell\a\u0085.txt", "bell__.txt")]
    [InlineData("invoice\u202Efdp.exe", "invoice_fdp.exe")] // right-to-left override: looked like "invoiceexe.pdf"
    [InlineData("pay\u200Bpal.pdf", "pay_pal.pdf")] // zero-width space
    [InlineData("\u2066\u2069", "__")] // bidi isolates
    [InlineData("日本語 ✓.txt", "日本語 ✓.txt")]
    [InlineData("😀.png", "😀.png")]
    [InlineData("", "attachment")]
    [InlineData(null, "attachment")]
    public void A_peers_file_name_loses_folders_and_characters_that_hide_what_it_is(string? name, string safe) =>
        Assert.Equal(safe, AttachmentFiles.SafeName(name));

    [Fact]
    public void A_long_name_keeps_its_extension_and_never_ends_in_half_a_character()
    {
        var name = new string('a', AttachmentFiles.MaxFileNameLength - 5) + "😀😀😀.pdf";
        var safe = AttachmentFiles.SafeName(name);
        Assert.True(safe.Length <= AttachmentFiles.MaxFileNameLength);
        Assert.EndsWith(".pdf", safe, StringComparison.Ordinal);
        Assert.DoesNotContain('\uFFFD', System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(safe)));
        Assert.All(safe.EnumerateRunes(), r => Assert.NotEqual(System.Text.Rune.ReplacementChar, r));
    }
}
