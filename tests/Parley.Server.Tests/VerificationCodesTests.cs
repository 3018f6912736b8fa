using Microsoft.Extensions.Time.Testing;
using Parley.Server.Accounts;

namespace Parley.Server.Tests;

/// <summary>Registration codes: single use, a few tries, and none kept for good.</summary>
public sealed class VerificationCodesTests
{
    [Fact]
    public void Codes_nobody_redeems_are_forgotten_once_expired_so_requests_for_names_never_registered_do_not_pile_up()
    {
        var time = new FakeTimeProvider();
        var codes = new VerificationCodes(time);
        for (int i = 0; i < 2000; i++)
        {
            codes.Issue($"user{i}", TimeSpan.FromMinutes(10));
        }
        Assert.Equal(2000, codes.PendingCount);

        time.Advance(TimeSpan.FromMinutes(11));
        var fresh = codes.Issue("late", TimeSpan.FromMinutes(10));
        Assert.Equal(1, codes.PendingCount);
        Assert.False(codes.Redeem("user7", "000000"));
        Assert.True(codes.Redeem("late", fresh));
        Assert.False(codes.Redeem("late", fresh)); // once
    }

    [Fact]
    public void A_few_pending_codes_are_kept_until_they_expire_or_are_used()
    {
        var time = new FakeTimeProvider();
        var codes = new VerificationCodes(time);
        var alice = codes.Issue("alice", TimeSpan.FromMinutes(10));
        codes.Issue("bob", TimeSpan.FromMinutes(10));
        time.Advance(TimeSpan.FromMinutes(5));
        codes.Issue("carol", TimeSpan.FromMinutes(10));
        Assert.Equal(3, codes.PendingCount);
        Assert.True(codes.Redeem("alice", alice));
        Assert.Equal(2, codes.PendingCount);
    }
}
