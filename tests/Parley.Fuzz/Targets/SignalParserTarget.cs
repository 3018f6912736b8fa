using Parley.Crypto;
using Parley.Crypto.Groups;
using Parley.Crypto.Messages;
using Parley.Fuzz.Engine;

namespace Parley.Fuzz.Targets;

/// <summary>
/// One of the Signal wire parsers. Property: a parse returns a message or throws a
/// <see cref="CryptoException"/> (InvalidMessageException and kin); anything else is a finding.
/// Mutations know the layout: a version byte, a protobuf body, and for some a trailing MAC or
/// signature, so the protobuf is mutated as fields while the frame around it stays plausible.
/// </summary>
public sealed class SignalParserTarget : IFuzzTarget
{
    private readonly Func<byte[], object> _parse;
    private readonly int _trailer;

    private SignalParserTarget(string name, Func<byte[], object> parse, int trailer, IReadOnlyList<byte[]> seeds)
    {
        Name = name;
        _parse = parse;
        _trailer = trailer;
        Seeds = seeds;
    }

    /// <summary><see cref="SignalMessage.Deserialize"/>: version, protobuf, 8-byte MAC.</summary>
    public static SignalParserTarget SignalMessage() =>
        new("signal-message", b => Crypto.Messages.SignalMessage.Deserialize(b), Crypto.Messages.SignalMessage.MacLength, SignalSeeds.SignalMessages);

    /// <summary><see cref="PreKeySignalMessage.Deserialize"/>: version, protobuf with an embedded SignalMessage.</summary>
    public static SignalParserTarget PreKeySignalMessage() =>
        new("prekey-message", b => Crypto.Messages.PreKeySignalMessage.Deserialize(b), 0, SignalSeeds.PreKeyMessages);

    /// <summary><see cref="SenderKeyMessage.Deserialize"/>: version, protobuf, 64-byte signature.</summary>
    public static SignalParserTarget SenderKeyMessage() =>
        new("sender-key-message", b => Crypto.Groups.SenderKeyMessage.Deserialize(b), Crypto.Groups.SenderKeyMessage.SignatureLength, SignalSeeds.SenderKeyMessages);

    /// <summary><see cref="SenderKeyDistributionMessage.Deserialize"/>: version, protobuf.</summary>
    public static SignalParserTarget DistributionMessage() =>
        new("sender-key-distribution", b => SenderKeyDistributionMessage.Deserialize(b), 0, SignalSeeds.DistributionMessages);

    public string Name { get; }

    public int Workers => 1;

    public IReadOnlyList<byte[]> Seeds { get; }

    public byte[] Mutate(byte[] input, byte[] other, Mutator mutator)
    {
        var random = mutator.Random;
        if (input.Length < 1 + _trailer || random.Next(8) == 0)
        {
            return mutator.MutateBytes(input, other);
        }
        var body = input.AsSpan(1, input.Length - 1 - _trailer).ToArray();
        var trailer = input.AsSpan(input.Length - _trailer).ToArray();
        // Mostly a valid version byte: a wrong one stops the parser before the protobuf it guards.
        byte version = random.Next(4) == 0 ? input[0] : Seeds[random.Next(Seeds.Count)][0];
        switch (random.Next(10))
        {
            case 0:
                version = (byte)((random.Next(16) << 4) | (random.Next(3) == 0 ? random.Next(16) : version & 0x0F));
                break;
            case 1:
                trailer = random.Next(2) == 0 ? trailer[..random.Next(trailer.Length + 1)] : mutator.MutateBytes(trailer);
                break;
            default:
                body = ProtoMutator.Mutate(body, mutator, other.Length > 1 + _trailer ? other.AsSpan(1, other.Length - 1 - _trailer).ToArray() : null);
                break;
        }
        return [version, .. body, .. trailer];
    }

    public ValueTask<string> ExecuteAsync(byte[] input, int worker)
    {
        try
        {
            _parse(input);
            return ValueTask.FromResult("parsed");
        }
        catch (CryptoException e)
        {
            // The message up to its first detail ("Malformed Signal message: ..."): a coarse but useful outcome.
            var text = e.Message;
            int cut = text.IndexOfAny([':', '(']);
            // Digits dropped: "version 9" and "version 12" are one outcome, not two corpus entries.
            var outcome = e.GetType().Name + " " + (cut > 0 ? text[..cut] : text);
            return ValueTask.FromResult(string.Concat(outcome.Where(c => !char.IsAsciiDigit(c))));
        }
    }

    public Task CheckStillServingAsync()
    {
        foreach (var seed in Seeds)
        {
            _parse(seed); // the valid inputs still parse: the parser was not left in a bad state
        }
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
