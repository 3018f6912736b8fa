// The libsignal side of the interop suite. Reads one JSON request per line on stdin and answers
// one JSON line on stdout: {"id", "ok": true, "result"} or {"id", "ok": false, "error", "kind"}.
// Byte strings travel as base64. State (stores per party) lives for the life of the process.
'use strict';

const readline = require('node:readline');
const crypto = require('node:crypto');
const current = require('@signalapp/libsignal-client');
const legacy = require('libsignal-x3dh'); // 0.72.1: the last release that still starts X3DH sessions
const spqrOptional = require('libsignal-pqxdh'); // 0.90.0: the last release that lets a PQXDH peer skip SPQR
const { makeParty, makeSenderKeyStore } = require('./stores.js');

// Which build a party runs, and whether its session calls take the local address (newer API).
const libraries = {
  current: { L: current, localAddress: true },
  pqxdh: { L: spqrOptional, localAddress: false },
  legacy: { L: legacy, localAddress: false },
};

const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const bytes = (text) => new Uint8Array(Buffer.from(text ?? '', 'base64'));

const senderKeyStores = new Map();
function senderKeyStore(party) {
  if (!senderKeyStores.has(party)) senderKeyStores.set(party, makeSenderKeyStore(current));
  return senderKeyStores.get(party);
}

const address = (name, device) => current.ProtocolAddress.new(name, device);

const parties = new Map();

function party(name) {
  const found = parties.get(name);
  if (!found) throw new Error(`unknown party ${name}`);
  return found;
}

const handlers = {
  ping: async () => ({
    versions: { current: packageVersion('@signalapp/libsignal-client'), pqxdh: packageVersion('libsignal-pqxdh'), legacy: packageVersion('libsignal-x3dh') },
  }),

  'keys.generate': async () => {
    const privateKey = current.PrivateKey.generate();
    return { private: b64(privateKey.serialize()), public: b64(privateKey.getPublicKey().serialize()) };
  },

  'keys.public': async ({ private: priv }) => ({
    public: b64(current.PrivateKey.deserialize(bytes(priv)).getPublicKey().serialize()),
  }),

  'keys.agree': async ({ private: priv, public: pub }) => ({
    shared: b64(current.PrivateKey.deserialize(bytes(priv)).agree(current.PublicKey.deserialize(bytes(pub)))),
  }),

  sign: async ({ private: priv, message }) => ({
    signature: b64(current.PrivateKey.deserialize(bytes(priv)).sign(bytes(message))),
  }),

  verify: async ({ public: pub, message, signature }) => ({
    valid: current.PublicKey.deserialize(bytes(pub)).verify(bytes(message), bytes(signature)),
  }),

  fingerprint: async ({ iterations, version, localId, localKey, remoteId, remoteKey, scanned }) => {
    const fingerprint = current.Fingerprint.new(
      iterations, version,
      bytes(localId), current.PublicKey.deserialize(bytes(localKey)),
      bytes(remoteId), current.PublicKey.deserialize(bytes(remoteKey)));
    const scannable = fingerprint.scannableFingerprint();
    const result = { displayable: fingerprint.displayableFingerprint().toString(), scannable: b64(scannable.toBuffer()) };
    if (scanned !== undefined) {
      result.matches = scannable.compare(current.ScannableFingerprint._fromBuffer(bytes(scanned)));
    }
    return result;
  },

  'party.create': async ({ party: name, lib, device, registrationId }) => {
    const library = libraries[lib];
    if (!library) throw new Error(`unknown library ${lib}`);
    const created = makeParty(library, name, device, registrationId);
    parties.set(name, created);
    return { identityKey: b64(created.identity.publicKey.serialize()), registrationId };
  },

  // Makes and stores fresh prekeys and returns the public bundle; kyber only when asked.
  'party.bundle': async ({ party: name, preKeyId, signedPreKeyId, kyberPreKeyId }) => {
    const p = party(name);
    const { L } = p;
    const bundle = { registrationId: p.registrationId, deviceId: p.device, signedPreKeyId };
    if (preKeyId !== undefined && preKeyId !== null) {
      const preKey = L.PrivateKey.generate();
      await p.preKeyStore.savePreKey(preKeyId, L.PreKeyRecord.new(preKeyId, preKey.getPublicKey(), preKey));
      Object.assign(bundle, { preKeyId, preKey: b64(preKey.getPublicKey().serialize()) });
    }
    const signedPreKey = L.PrivateKey.generate();
    const signedPreKeySignature = p.identity.privateKey.sign(signedPreKey.getPublicKey().serialize());
    await p.signedPreKeyStore.saveSignedPreKey(signedPreKeyId, L.SignedPreKeyRecord.new(signedPreKeyId, Date.now(), signedPreKey.getPublicKey(), signedPreKey, signedPreKeySignature));
    Object.assign(bundle, { signedPreKey: b64(signedPreKey.getPublicKey().serialize()), signedPreKeySignature: b64(signedPreKeySignature), identityKey: b64(p.identity.publicKey.serialize()) });
    if (kyberPreKeyId !== undefined && kyberPreKeyId !== null) {
      const kyber = L.KEMKeyPair.generate();
      const kyberSignature = p.identity.privateKey.sign(kyber.getPublicKey().serialize());
      await p.kyberPreKeyStore.saveKyberPreKey(kyberPreKeyId, L.KyberPreKeyRecord.new(kyberPreKeyId, Date.now(), kyber, kyberSignature));
      Object.assign(bundle, { kyberPreKeyId, kyberPreKey: b64(kyber.getPublicKey().serialize()), kyberPreKeySignature: b64(kyberSignature) });
    }
    return bundle;
  },

  // Starts a session from a bundle (X3DH when it has no kyber prekey, PQXDH otherwise).
  'party.process': async ({ party: name, remoteName, remoteDevice, bundle }) => {
    const p = party(name);
    const { L } = p;
    const hasPreKey = bundle.preKeyId !== undefined && bundle.preKeyId !== null;
    const hasKyber = bundle.kyberPreKeyId !== undefined && bundle.kyberPreKeyId !== null;
    const preKeyBundle = L.PreKeyBundle.new(
      bundle.registrationId, bundle.deviceId,
      hasPreKey ? bundle.preKeyId : null, hasPreKey ? L.PublicKey.deserialize(bytes(bundle.preKey)) : null,
      bundle.signedPreKeyId, L.PublicKey.deserialize(bytes(bundle.signedPreKey)), bytes(bundle.signedPreKeySignature),
      L.PublicKey.deserialize(bytes(bundle.identityKey)),
      hasKyber ? bundle.kyberPreKeyId : null, hasKyber ? L.KEMPublicKey.deserialize(bytes(bundle.kyberPreKey)) : null,
      hasKyber ? bytes(bundle.kyberPreKeySignature) : null);
    const remote = L.ProtocolAddress.new(remoteName, remoteDevice);
    if (p.withLocalAddress) {
      await L.processPreKeyBundle(preKeyBundle, remote, p.address, p.sessionStore, p.identityStore);
    } else {
      await L.processPreKeyBundle(preKeyBundle, remote, p.sessionStore, p.identityStore);
    }
    return {};
  },

  'party.encrypt': async ({ party: name, remoteName, remoteDevice, plaintext }) => {
    const p = party(name);
    const { L } = p;
    const remote = L.ProtocolAddress.new(remoteName, remoteDevice);
    const message = p.withLocalAddress
      ? await L.signalEncrypt(bytes(plaintext), remote, p.address, p.sessionStore, p.identityStore)
      : await L.signalEncrypt(Buffer.from(bytes(plaintext)), remote, p.sessionStore, p.identityStore);
    return { type: message.type(), body: b64(message.serialize()) };
  },

  // type 3 = PreKeySignalMessage, 2 = SignalMessage (libsignal's CiphertextMessageType).
  'party.decrypt': async ({ party: name, remoteName, remoteDevice, type, body }) => {
    const p = party(name);
    const { L } = p;
    const remote = L.ProtocolAddress.new(remoteName, remoteDevice);
    const legacyApi = !p.withLocalAddress;
    const data = legacyApi ? Buffer.from(bytes(body)) : bytes(body);
    let plaintext;
    if (type === 3) {
      const message = L.PreKeySignalMessage.deserialize(data);
      plaintext = legacyApi
        ? await L.signalDecryptPreKey(message, remote, p.sessionStore, p.identityStore, p.preKeyStore, p.signedPreKeyStore, p.kyberPreKeyStore)
        : await L.signalDecryptPreKey(message, remote, p.address, p.sessionStore, p.identityStore, p.preKeyStore, p.signedPreKeyStore, p.kyberPreKeyStore);
    } else {
      const message = L.SignalMessage.deserialize(data);
      plaintext = legacyApi
        ? await L.signalDecrypt(message, remote, p.sessionStore, p.identityStore)
        : await L.signalDecrypt(message, remote, p.address, p.sessionStore, p.identityStore);
    }
    return { plaintext: b64(plaintext) };
  },

  // Signal's attachment layout written independently with node's crypto (libsignal has no
  // attachment API): IV ‖ AES-256-CBC ‖ HMAC-SHA256(IV ‖ ciphertext), digest = SHA-256 of it all.
  'attachment.encrypt': async ({ key, plaintext }) => {
    const material = Buffer.from(key, 'base64');
    const iv = crypto.randomBytes(16);
    const cipher = crypto.createCipheriv('aes-256-cbc', material.subarray(0, 32), iv);
    const body = Buffer.concat([iv, cipher.update(Buffer.from(plaintext, 'base64')), cipher.final()]);
    const mac = crypto.createHmac('sha256', material.subarray(32, 64)).update(body).digest();
    const blob = Buffer.concat([body, mac]);
    return { blob: blob.toString('base64'), digest: crypto.createHash('sha256').update(blob).digest('base64') };
  },

  'attachment.decrypt': async ({ key, blob, digest, length }) => {
    const material = Buffer.from(key, 'base64');
    const data = Buffer.from(blob, 'base64');
    if (!crypto.createHash('sha256').update(data).digest().equals(Buffer.from(digest, 'base64'))) throw new Error('digest mismatch');
    const body = data.subarray(0, data.length - 32);
    const mac = crypto.createHmac('sha256', material.subarray(32, 64)).update(body).digest();
    if (!crypto.timingSafeEqual(mac, data.subarray(data.length - 32))) throw new Error('bad mac');
    const decipher = crypto.createDecipheriv('aes-256-cbc', material.subarray(0, 32), body.subarray(0, 16));
    const plaintext = Buffer.concat([decipher.update(body.subarray(16)), decipher.final()]);
    return { plaintext: (length === undefined ? plaintext : plaintext.subarray(0, length)).toString('base64') };
  },

  'group.create': async ({ party, name, device, distributionId }) => {
    const message = await current.SenderKeyDistributionMessage.create(address(name, device), distributionId, senderKeyStore(party));
    return { message: b64(message.serialize()) };
  },

  'group.process': async ({ party, name, device, message }) => {
    const distribution = current.SenderKeyDistributionMessage.deserialize(bytes(message));
    await current.processSenderKeyDistributionMessage(address(name, device), distribution, senderKeyStore(party));
    return {};
  },

  'group.encrypt': async ({ party, name, device, distributionId, plaintext }) => {
    const message = await current.groupEncrypt(address(name, device), distributionId, senderKeyStore(party), bytes(plaintext));
    return { ciphertext: b64(message.serialize()) };
  },

  'group.decrypt': async ({ party, name, device, ciphertext }) => ({
    plaintext: b64(await current.groupDecrypt(address(name, device), senderKeyStore(party), bytes(ciphertext))),
  }),

  'group.sign': async ({ private: priv, distributionId, chainId, iteration, ciphertext }) => {
    const message = current.SenderKeyMessage._new(3, distributionId, chainId, iteration, bytes(ciphertext), current.PrivateKey.deserialize(bytes(priv)));
    return { message: b64(message.serialize()) };
  },

  'group.distribution': async ({ distributionId, chainId, iteration, chainKey, public: pub }) => {
    const message = current.SenderKeyDistributionMessage._new(3, distributionId, chainId, iteration, bytes(chainKey), current.PublicKey.deserialize(bytes(pub)));
    return { message: b64(message.serialize()) };
  },
};

function packageVersion(name) {
  return require(`${name}/package.json`).version;
}

async function answer(line) {
  let request;
  try {
    request = JSON.parse(line);
  } catch (error) {
    return { id: null, ok: false, error: `unparsable request: ${error.message}`, kind: 'Protocol' };
  }
  const handler = handlers[request.op];
  if (!handler) return { id: request.id, ok: false, error: `unknown op ${request.op}`, kind: 'Protocol' };
  try {
    return { id: request.id, ok: true, result: await handler(request) };
  } catch (error) {
    return { id: request.id, ok: false, error: String(error.message ?? error), kind: error.code !== undefined ? String(error.code) : error.name };
  }
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    process.stdout.write(JSON.stringify(await answer(line)) + '\n');
  }
}

main().catch((error) => {
  process.stderr.write(`oracle failed: ${error.stack ?? error}\n`);
  process.exit(1);
});

module.exports = { handlers };
