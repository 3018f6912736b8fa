namespace Parley.Crypto.Stores;

/// <summary>All the stores a device needs, in one object, for <see cref="Sessions.SessionBuilder"/> and <see cref="Sessions.SessionCipher"/>.</summary>
public interface IProtocolStore : IIdentityKeyStore, IPreKeyStore, ISignedPreKeyStore, IKyberPreKeyStore, ISessionStore
{
}
