using System.Security.Cryptography;
using System.Text;
using Parley.Crypto.Fingerprints;
using Parley.Crypto.Keys;

namespace Parley.Crypto.Tests.Fingerprints;

public class FingerprintGeneratorTests
{
    // Fixed vectors from libsignal's fingerprint tests (shared with libsignal-protocol-java).
    private static readonly byte[] AliceIdentity = Convert.FromHexString("0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868");
    private static readonly byte[] BobIdentity = Convert.FromHexString("05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b");
    private static readonly byte[] AliceStableId = Encoding.UTF8.GetBytes("+14152222222");
    private static readonly byte[] BobStableId = Encoding.UTF8.GetBytes("+14153333333");
    private const string DisplayableVector = "300354477692869396892869876765458257569162576843440918079131";
    private const string AliceScannableV1 = "080112220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df1a220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d";
    private const string BobScannableV1 = "080112220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d1a220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df";
    private const string AliceScannableV2 = "080212220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df1a220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d";
    private const string BobScannableV2 = "080212220a20d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d1a220a201e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df";

    private readonly FingerprintGenerator _generator = new();

    [Theory]
    [InlineData(1, AliceScannableV1, BobScannableV1)]
    [InlineData(2, AliceScannableV2, BobScannableV2)]
    public void Fingerprints_match_the_libsignal_vectors(int version, string aliceScannable, string bobScannable)
    {
        Fingerprint alice = _generator.Create(version, AliceStableId, AliceIdentity, BobStableId, BobIdentity);
        Fingerprint bob = _generator.Create(version, BobStableId, BobIdentity, AliceStableId, AliceIdentity);

        Assert.Equal(DisplayableVector, alice.Displayable.Digits);
        Assert.Equal(DisplayableVector, bob.Displayable.Digits);
        Assert.Equal(aliceScannable, Convert.ToHexStringLower(alice.Scannable.Serialize()));
        Assert.Equal(bobScannable, Convert.ToHexStringLower(bob.Scannable.Serialize()));
    }

    [Fact]
    public void Scannable_encoding_is_libsignals_combined_fingerprints_protobuf()
    {
        var scannable = new ScannableFingerprint(2, Enumerable.Repeat((byte)0x12, 32).ToArray(), Enumerable.Repeat((byte)0xBA, 32).ToArray());

        string expected = "080212220a20" + string.Concat(Enumerable.Repeat("12", 32)) + "1a220a20" + string.Concat(Enumerable.Repeat("ba", 32));
        Assert.Equal(expected, Convert.ToHexStringLower(scannable.Serialize()));
    }

    [Fact]
    public void Both_parties_see_the_same_number_and_each_scan_matches()
    {
        byte[] aliceKey = RandomIdentity();
        byte[] bobKey = RandomIdentity();

        Fingerprint alice = _generator.Create(2, AliceStableId, aliceKey, BobStableId, bobKey);
        Fingerprint bob = _generator.Create(2, BobStableId, bobKey, AliceStableId, aliceKey);

        Assert.Equal(alice.Displayable.Digits, bob.Displayable.Digits);
        Assert.Equal(60, alice.Displayable.Digits.Length);
        Assert.All(alice.Displayable.Digits, c => Assert.InRange(c, '0', '9'));
        Assert.True(alice.Scannable.Matches(bob.Scannable.Serialize()));
        Assert.True(bob.Scannable.Matches(alice.Scannable.Serialize()));
        Assert.False(alice.Scannable.Matches(alice.Scannable.Serialize()));
    }

    [Fact]
    public void A_substituted_identity_key_changes_the_number_and_fails_the_scan()
    {
        byte[] aliceKey = RandomIdentity();
        byte[] bobKey = RandomIdentity();
        byte[] mitmKey = RandomIdentity();

        Fingerprint alice = _generator.Create(2, AliceStableId, aliceKey, BobStableId, mitmKey);
        Fingerprint bob = _generator.Create(2, BobStableId, bobKey, AliceStableId, aliceKey);

        Assert.NotEqual(alice.Displayable.Digits, bob.Displayable.Digits);
        Assert.False(alice.Scannable.Matches(bob.Scannable.Serialize()));
        Assert.False(bob.Scannable.Matches(alice.Scannable.Serialize()));
    }

    [Fact]
    public void A_different_stable_identifier_changes_the_number_and_fails_the_scan()
    {
        byte[] aliceKey = RandomIdentity();
        byte[] bobKey = RandomIdentity();

        Fingerprint alice = _generator.Create(2, Encoding.UTF8.GetBytes("+141512222222"), aliceKey, BobStableId, bobKey);
        Fingerprint bob = _generator.Create(2, BobStableId, bobKey, AliceStableId, aliceKey);

        Assert.NotEqual(alice.Displayable.Digits, bob.Displayable.Digits);
        Assert.False(alice.Scannable.Matches(bob.Scannable.Serialize()));
    }

    [Fact]
    public void Scanning_a_code_of_another_version_reports_the_mismatch()
    {
        Fingerprint v1 = _generator.Create(1, AliceStableId, AliceIdentity, BobStableId, BobIdentity);
        Fingerprint v2 = _generator.Create(2, BobStableId, BobIdentity, AliceStableId, AliceIdentity);

        Assert.Equal(v1.Displayable.Digits, v2.Displayable.Digits);
        var error = Assert.Throws<FingerprintVersionMismatchException>(() => v2.Scannable.Matches(v1.Scannable.Serialize()));
        Assert.Equal(1, error.Theirs);
        Assert.Equal(2, error.Ours);
    }

    [Fact]
    public void Scanning_garbage_is_a_parsing_error()
    {
        Fingerprint alice = _generator.Create(2, AliceStableId, AliceIdentity, BobStableId, BobIdentity);

        Assert.Throws<FingerprintParsingException>(() => alice.Scannable.Matches([0x08, 0x02, 0x12, 0x40, 0x01]));
        Assert.Throws<FingerprintParsingException>(() => alice.Scannable.Matches([0x08, 0x02]));
    }

    [Fact]
    public void A_serialized_scannable_fingerprint_deserializes_to_the_same_bytes()
    {
        Fingerprint alice = _generator.Create(2, AliceStableId, AliceIdentity, BobStableId, BobIdentity);

        ScannableFingerprint copy = ScannableFingerprint.Deserialize(alice.Scannable.Serialize());

        Assert.Equal(alice.Scannable.Serialize(), copy.Serialize());
        Assert.Equal(2, copy.Version);
    }

    [Fact]
    public void User_name_overload_is_version_2_over_the_utf8_names()
    {
        IdentityKey aliceKey = IdentityKey.Deserialize(AliceIdentity);
        IdentityKey bobKey = IdentityKey.Deserialize(BobIdentity);

        Fingerprint byName = _generator.Create("+14152222222", aliceKey, "+14153333333", bobKey);

        Assert.Equal(DisplayableVector, byName.Displayable.Digits);
        Assert.Equal(AliceScannableV2, Convert.ToHexStringLower(byName.Scannable.Serialize()));
    }

    [Fact]
    public void Grouped_digits_are_twelve_groups_of_five()
    {
        Fingerprint alice = _generator.Create(2, AliceStableId, AliceIdentity, BobStableId, BobIdentity);

        Assert.Equal("30035 44776 92869 39689 28698 76765 45825 75691 62576 84344 09180 79131", alice.Displayable.Grouped());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    [InlineData(1_000_001)]
    public void Iteration_counts_outside_libsignals_bounds_are_refused(int iterations)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FingerprintGenerator(iterations));
    }

    private static byte[] RandomIdentity()
    {
        byte[] key = RandomNumberGenerator.GetBytes(33);
        key[0] = 0x05;
        return key;
    }
}
