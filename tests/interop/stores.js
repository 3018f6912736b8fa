// In-memory libsignal stores for the interop oracle and the benchmark comparison. Records are
// kept serialized, so each load is a fresh copy, as a persistent store behaves.
'use strict';

// A party is one device with all its stores, bound to one library build:
// library = { L: the loaded package, localAddress: whether session calls take the local address }.
function makeParty(library, name, device, registrationId, identity = library.L.IdentityKeyPair.generate()) {
  const { L } = library;
  const maps = { identities: new Map(), sessions: new Map(), preKeys: new Map(), signedPreKeys: new Map(), kyberPreKeys: new Map() };
  const key = (address) => `${address.name()}.${address.deviceId()}`;
  const identityStore = new (class extends L.IdentityKeyStore {
    async getIdentityKey() { return identity.privateKey; }
    async getIdentityKeyPair() { return identity; }
    async getLocalRegistrationId() { return registrationId; }
    async saveIdentity(address, publicKey) {
      const previous = maps.identities.get(key(address));
      maps.identities.set(key(address), publicKey.serialize());
      const replaced = previous !== undefined && Buffer.compare(Buffer.from(previous), Buffer.from(publicKey.serialize())) !== 0;
      return replaced ? L.IdentityChange.ReplacedExisting : L.IdentityChange.NewOrUnchanged;
    }
    async isTrustedIdentity(address, publicKey) {
      const known = maps.identities.get(key(address));
      return known === undefined || Buffer.compare(Buffer.from(known), Buffer.from(publicKey.serialize())) === 0;
    }
    async getIdentity(address) {
      const known = maps.identities.get(key(address));
      return known === undefined ? null : L.PublicKey.deserialize(known);
    }
  })();
  const sessionStore = new (class extends L.SessionStore {
    async saveSession(address, record) { maps.sessions.set(key(address), record.serialize()); }
    async getSession(address) {
      const stored = maps.sessions.get(key(address));
      return stored === undefined ? null : L.SessionRecord.deserialize(stored);
    }
    async getExistingSessions(addresses) { return Promise.all(addresses.map((a) => this.getSession(a))); }
  })();
  const preKeyStore = new (class extends L.PreKeyStore {
    async savePreKey(id, record) { maps.preKeys.set(id, record.serialize()); }
    async getPreKey(id) {
      if (!maps.preKeys.has(id)) throw new Error(`no prekey ${id}`);
      return L.PreKeyRecord.deserialize(maps.preKeys.get(id));
    }
    async removePreKey(id) { maps.preKeys.delete(id); }
  })();
  const signedPreKeyStore = new (class extends L.SignedPreKeyStore {
    async saveSignedPreKey(id, record) { maps.signedPreKeys.set(id, record.serialize()); }
    async getSignedPreKey(id) {
      if (!maps.signedPreKeys.has(id)) throw new Error(`no signed prekey ${id}`);
      return L.SignedPreKeyRecord.deserialize(maps.signedPreKeys.get(id));
    }
  })();
  const kyberPreKeyStore = new (class extends L.KyberPreKeyStore {
    async saveKyberPreKey(id, record) { maps.kyberPreKeys.set(id, record.serialize()); }
    async getKyberPreKey(id) {
      if (!maps.kyberPreKeys.has(id)) throw new Error(`no kyber prekey ${id}`);
      return L.KyberPreKeyRecord.deserialize(maps.kyberPreKeys.get(id));
    }
    async markKyberPreKeyUsed() {}
  })();
  const address = L.ProtocolAddress.new(name, device);
  return { L, withLocalAddress: library.localAddress, maps, identity, registrationId, device, address, identityStore, sessionStore, preKeyStore, signedPreKeyStore, kyberPreKeyStore };
}

function makeSenderKeyStore(L) {
  const records = new Map();
  const key = (sender, distributionId) => `${sender.name()}.${sender.deviceId()}/${distributionId}`;
  return new (class extends L.SenderKeyStore {
    async saveSenderKey(sender, distributionId, record) {
      records.set(key(sender, distributionId), record.serialize());
    }
    async getSenderKey(sender, distributionId) {
      const stored = records.get(key(sender, distributionId));
      return stored ? L.SenderKeyRecord.deserialize(stored) : null;
    }
  })();
}

module.exports = { makeParty, makeSenderKeyStore };
