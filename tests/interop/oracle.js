// The libsignal side of the interop suite. Reads one JSON request per line on stdin and answers
// one JSON line on stdout: {"id", "ok": true, "result"} or {"id", "ok": false, "error", "kind"}.
// Byte strings travel as base64. State (stores per party) lives for the life of the process.
'use strict';

const readline = require('node:readline');
const current = require('@signalapp/libsignal-client');
const legacy = require('libsignal-x3dh'); // 0.72.1: the last release that still starts X3DH sessions

const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const bytes = (text) => new Uint8Array(Buffer.from(text ?? '', 'base64'));

class MemorySenderKeyStore extends current.SenderKeyStore {
  constructor() {
    super();
    this.records = new Map();
  }
  key(sender, distributionId) {
    return `${sender.name()}.${sender.deviceId()}/${distributionId}`;
  }
  async saveSenderKey(sender, distributionId, record) {
    this.records.set(this.key(sender, distributionId), record.serialize());
  }
  async getSenderKey(sender, distributionId) {
    const stored = this.records.get(this.key(sender, distributionId));
    return stored ? current.SenderKeyRecord.deserialize(stored) : null;
  }
}

const senderKeyStores = new Map();
function senderKeyStore(party) {
  if (!senderKeyStores.has(party)) senderKeyStores.set(party, new MemorySenderKeyStore());
  return senderKeyStores.get(party);
}

const address = (name, device) => current.ProtocolAddress.new(name, device);

const handlers = {
  ping: async () => ({ versions: { current: packageVersion('@signalapp/libsignal-client'), legacy: packageVersion('libsignal-x3dh') } }),

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

module.exports = { handlers, legacy };
