// The same operations as the BenchmarkDotNet suite, run with libsignal through node, for
// compare.sh. Uses tests/interop's pinned packages and in-memory stores. Prints one JSON object:
// { "<benchmark description> [param]": mean nanoseconds per operation }.
'use strict';

const path = require('node:path');
const { createRequire } = require('node:module');
const { randomBytes, randomUUID } = require('node:crypto');

const interop = path.resolve(__dirname, '../../tests/interop');
const requireInterop = createRequire(path.join(interop, 'package.json'));
const current = requireInterop('@signalapp/libsignal-client');
const legacy = requireInterop('libsignal-x3dh');
const { makeParty, makeSenderKeyStore } = requireInterop('./stores.js');

const seconds = Number(process.env.BENCH_SECONDS ?? 2);

// Runs op repeatedly: a warm-up, then seven timed rounds sharing the time budget; the median of
// the rounds' mean ns per call, so a burst of load from elsewhere on the machine counts little.
async function measure(op) {
  const warmUntil = process.hrtime.bigint() + BigInt(Math.round(seconds * 0.25e9));
  while (process.hrtime.bigint() < warmUntil) await op();
  const rounds = [];
  for (let round = 0; round < 7; round++) {
    let calls = 0;
    const start = process.hrtime.bigint();
    const stop = start + BigInt(Math.round((seconds / 7) * 1e9));
    let now = start;
    while (now < stop) {
      await op();
      calls++;
      now = process.hrtime.bigint();
    }
    rounds.push(Number(now - start) / calls);
  }
  return rounds.sort((a, b) => a - b)[3];
}

async function senderKeys() {
  const L = current;
  const alice = L.ProtocolAddress.new('alice', 1);
  const group = randomUUID();
  const aliceStore = makeSenderKeyStore(L);
  const bobStore = makeSenderKeyStore(L);
  const distribution = await L.SenderKeyDistributionMessage.create(alice, group, aliceStore);
  await L.processSenderKeyDistributionMessage(alice, distribution, bobStore);
  const plaintext = new Uint8Array(randomBytes(200));
  return {
    'sender key: encrypt 200 B': await measure(async () => (await L.groupEncrypt(alice, group, aliceStore, plaintext)).serialize()),
    'sender key: encrypt + decrypt 200 B': await measure(async () => {
      const message = await L.groupEncrypt(alice, group, aliceStore, plaintext);
      return L.groupDecrypt(alice, bobStore, message.serialize());
    }),
  };
}

async function signatures() {
  const L = current;
  const key = L.PrivateKey.generate();
  const message = new Uint8Array(randomBytes(200));
  const signature = key.sign(message);
  const publicKey = key.getPublicKey();
  return {
    'xeddsa: sign 200 B': await measure(async () => key.sign(message)),
    'xeddsa: verify 200 B': await measure(async () => publicKey.verify(message, signature)),
  };
}

async function fingerprint() {
  const L = current;
  const a = L.PrivateKey.generate().getPublicKey();
  const b = L.PrivateKey.generate().getPublicKey();
  const aliceId = new Uint8Array(Buffer.from('alice'));
  const bobId = new Uint8Array(Buffer.from('bob'));
  return {
    'fingerprint: safety number': await measure(async () => L.Fingerprint.new(5200, 2, aliceId, a, bobId, b).displayableFingerprint().toString()),
  };
}

// X3DH with 0.72.1 (the newest cannot start one); PQXDH with the newest, which also runs SPQR.
async function sessions(handshake) {
  const library = handshake === 'X3DH' ? { L: legacy, localAddress: false } : { L: current, localAddress: true };
  const { L } = library;
  const plaintext = new Uint8Array(randomBytes(200));
  const bob = makeParty(library, 'bob', 1, 2);
  const signed = L.PrivateKey.generate();
  const signedSignature = bob.identity.privateKey.sign(signed.getPublicKey().serialize());
  await bob.signedPreKeyStore.saveSignedPreKey(1, L.SignedPreKeyRecord.new(1, Date.now(), signed.getPublicKey(), signed, signedSignature));
  let kyberId = null; let kyberPublic = null; let kyberSignature = null;
  if (handshake === 'PQXDH') {
    const kyber = L.KEMKeyPair.generate();
    kyberSignature = bob.identity.privateKey.sign(kyber.getPublicKey().serialize());
    await bob.kyberPreKeyStore.saveKyberPreKey(2, L.KyberPreKeyRecord.new(2, Date.now(), kyber, kyberSignature));
    kyberId = 2; kyberPublic = kyber.getPublicKey();
  }
  // No one-time prekey, as in the C# benchmark, so one bundle serves every iteration.
  const bundle = L.PreKeyBundle.new(2, 1, null, null, 1, signed.getPublicKey(), signedSignature, bob.identity.publicKey, kyberId, kyberPublic, kyberSignature);

  const encrypt = (p, remote, text) => (library.localAddress
    ? L.signalEncrypt(text, remote.address, p.address, p.sessionStore, p.identityStore)
    : L.signalEncrypt(Buffer.from(text), remote.address, p.sessionStore, p.identityStore));
  const process_ = (p, remote) => (library.localAddress
    ? L.processPreKeyBundle(bundle, remote.address, p.address, p.sessionStore, p.identityStore)
    : L.processPreKeyBundle(bundle, remote.address, p.sessionStore, p.identityStore));
  const decryptPreKey = (p, remote, message) => (library.localAddress
    ? L.signalDecryptPreKey(message, remote.address, p.address, p.sessionStore, p.identityStore, p.preKeyStore, p.signedPreKeyStore, p.kyberPreKeyStore)
    : L.signalDecryptPreKey(message, remote.address, p.sessionStore, p.identityStore, p.preKeyStore, p.signedPreKeyStore, p.kyberPreKeyStore));
  const decrypt = (p, remote, message) => (library.localAddress
    ? L.signalDecrypt(message, remote.address, p.address, p.sessionStore, p.identityStore)
    : L.signalDecrypt(message, remote.address, p.sessionStore, p.identityStore));

  const aliceIdentity = L.IdentityKeyPair.generate();
  const setup = await measure(async () => {
    const alice = makeParty(library, 'alice', 1, 1, aliceIdentity);
    await process_(alice, bob);
    const first = await encrypt(alice, bob, plaintext);
    const result = await decryptPreKey(bob, alice, L.PreKeySignalMessage.deserialize(first.serialize()));
    bob.maps.sessions.delete('alice.1'); // keep the recipient's record small, as the C# benchmark does
    return result;
  });

  const alice = makeParty(library, 'alice', 1, 1, aliceIdentity);
  await process_(alice, bob);
  await decryptPreKey(bob, alice, L.PreKeySignalMessage.deserialize((await encrypt(alice, bob, plaintext)).serialize()));
  await decrypt(alice, bob, L.SignalMessage.deserialize((await encrypt(bob, alice, plaintext)).serialize()));
  const steady = await measure(async () => {
    const message = await encrypt(alice, bob, plaintext);
    return decrypt(bob, alice, L.SignalMessage.deserialize(message.serialize()));
  });
  return {
    [`session: setup (bundle + first decrypt) [${handshake}]`]: setup,
    [`session: encrypt + decrypt 200 B [${handshake}]`]: steady,
  };
}

async function main() {
  const results = {
    ...(await sessions('X3DH')),
    ...(await sessions('PQXDH')),
    ...(await senderKeys()),
    ...(await fingerprint()),
    ...(await signatures()),
  };
  process.stdout.write(JSON.stringify({
    versions: { current: requireInterop('@signalapp/libsignal-client/package.json').version, legacy: requireInterop('libsignal-x3dh/package.json').version },
    node: process.version,
    results,
  }, null, 2) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
