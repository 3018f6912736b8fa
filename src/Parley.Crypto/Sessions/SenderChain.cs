using Parley.Crypto.Keys;
using Parley.Crypto.Ratchet;

namespace Parley.Crypto.Sessions;

/// <summary>The sending chain: our current ratchet key pair and chain key. Immutable; a step replaces it.</summary>
internal sealed record SenderChain(EcKeyPair RatchetKeyPair, ChainKey ChainKey);
