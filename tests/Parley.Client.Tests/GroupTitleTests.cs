using Parley.Client.Groups;

namespace Parley.Client.Tests;

/// <summary>The rules every member's device applies to a group title it sets or receives.</summary>
public sealed class GroupTitleTests
{
    [Theory]
    [InlineData("Weekend plans")]
    [InlineData("عائلة")] // right to left without any mark
    [InlineData("家族 🎉")]
    [InlineData("👨‍👩‍👧 family")] // zero-width joiners make one emoji
    [InlineData("  padded  ")]
    public void Titles_in_any_script_with_emoji_are_titles(string title) => Assert.True(GroupTitle.IsValid(title));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" \u3000 ")] // white space only, an ideographic space included
    [InlineData("\u202Egnitsil rof")] // right-to-left override
    [InlineData("a\u202Ab")] // left-to-right embedding
    [InlineData("a\u2067b\u2069")] // isolates
    [InlineData("a\u200Fb")] // right-to-left mark
    [InlineData("two\nlines")]
    [InlineData("bell\a")]
    [InlineData("esc\u001B[31mred")]
    public void Empty_titles_and_titles_with_control_or_direction_characters_are_not(string? title) => Assert.False(GroupTitle.IsValid(title));

    [Fact]
    public void A_title_is_at_most_400_bytes_of_UTF_8_whatever_its_length_in_characters()
    {
        Assert.True(GroupTitle.IsValid(new string('a', GroupTitle.MaxBytes)));
        Assert.False(GroupTitle.IsValid(new string('a', GroupTitle.MaxBytes + 1)));
        Assert.True(GroupTitle.IsValid(string.Concat(Enumerable.Repeat("€", GroupTitle.MaxBytes / 3)))); // 3 bytes each
        Assert.False(GroupTitle.IsValid(string.Concat(Enumerable.Repeat("€", GroupTitle.MaxBytes / 3 + 1))));
    }
}
