// Regenerates libsignal-sessions.json: libsignal 0.72.1 (the pre-SPQR protocol Parley speaks) plays
// Alice against a Bob whose keys are all written out, for X3DH and PQXDH. Run from this folder after
// `npm ci` in tests/interop:  node make-libsignal-vectors.js > libsignal-sessions.json
const L = require('../../../interop/node_modules/libsignal-x3dh');

const b64 = (buf) => Buffer.from(buf).toString('base64');

class Sessions extends L.SessionStore {
  constructor() { super(); this.map = new Map(); }
  async saveSession(a, r) { this.map.set(a.toString(), r.serialize()); }
  async getSession(a) { const s = this.map.get(a.toString()); return s ? L.SessionRecord.deserialize(s) : null; }
  async getExistingSessions(as) { return as.map((a) => L.SessionRecord.deserialize(this.map.get(a.toString()))); }
}

class Identities extends L.IdentityKeyStore {
  constructor(pair, registrationId) { super(); this.pair = pair; this.registrationId = registrationId; this.known = new Map(); }
  async getIdentityKey() { return this.pair.privateKey; }
  async getLocalRegistrationId() { return this.registrationId; }
  async saveIdentity(a, k) { this.known.set(a.toString(), k.serialize()); return 0; }
  async isTrustedIdentity() { return true; }
  async getIdentity(a) { const k = this.known.get(a.toString()); return k ? L.PublicKey.deserialize(k) : null; }
}

async function vector(kyber) {
  const bobIdentity = L.IdentityKeyPair.generate();
  const signed = L.PrivateKey.generate();
  const signedRecord = L.SignedPreKeyRecord.new(7, 1700000000123, signed.getPublicKey(), signed,
    bobIdentity.privateKey.sign(signed.getPublicKey().serialize()));
  const oneTime = L.PrivateKey.generate();
  const oneTimeRecord = L.PreKeyRecord.new(5, oneTime.getPublicKey(), oneTime);
  let kyberRecord = null;
  if (kyber) {
    const pair = L.KEMKeyPair.generate();
    kyberRecord = L.KyberPreKeyRecord.new(9, 1700000000456, pair, bobIdentity.privateKey.sign(pair.getPublicKey().serialize()));
  }

  const bundle = L.PreKeyBundle.new(1234, 1, 5, oneTime.getPublicKey(), 7, signed.getPublicKey(), signedRecord.signature(),
    bobIdentity.publicKey, kyber ? 9 : null, kyber ? kyberRecord.publicKey() : null, kyber ? kyberRecord.signature() : null);

  const aliceIdentity = L.IdentityKeyPair.generate();
  const sessions = new Sessions();
  const identities = new Identities(aliceIdentity, 4321);
  const bob = L.ProtocolAddress.new('bob', 1);
  await L.processPreKeyBundle(bundle, bob, sessions, identities);
  const messages = [];
  for (const text of ['first message from libsignal', 'second message from libsignal']) {
    const m = await L.signalEncrypt(Buffer.from(text), bob, sessions, identities);
    messages.push({ type: m.type(), wire: b64(m.serialize()), plaintext: text });
  }

  return {
    bob: {
      identityKeyPair: b64(bobIdentity.serialize()),
      registrationId: 1234,
      signedPreKey: b64(signedRecord.serialize()),
      preKey: b64(oneTimeRecord.serialize()),
      kyberPreKey: kyber ? b64(kyberRecord.serialize()) : null,
    },
    alice: {
      identityKeyPair: b64(aliceIdentity.serialize()),
      registrationId: 4321,
      sessionWithBob: b64(sessions.map.get(bob.toString())),
    },
    messages,
  };
}

(async () => {
  console.log(JSON.stringify({ libsignal: '0.72.1', x3dh: await vector(false), pqxdh: await vector(true) }, null, 1));
})();
