// IndexedDB persistence of the Parley client store (IndexedDbPersistence.cs). One object store,
// "records", keyed by [collection, key]; values are byte arrays. A batch is one readwrite
// transaction with strict durability: all of it is on disk when the promise resolves, none of it
// when it rejects (QuotaExceededError and the like surface as the rejection).

const databases = new Map();

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function open(name) {
  if (databases.has(name)) {
    return;
  }
  const req = indexedDB.open(name, 1);
  req.onupgradeneeded = () => {
    if (!req.result.objectStoreNames.contains("records")) {
      req.result.createObjectStore("records");
    }
  };
  const db = await request(req);
  // Another tab upgrading the schema: let it, this tab reopens on its next load.
  db.onversionchange = () => { db.close(); databases.delete(name); };
  databases.set(name, db);
}

function database(name) {
  const db = databases.get(name);
  if (!db) {
    throw new Error(`IndexedDB database ${name} is not open`);
  }
  return db;
}

// Every key and value of one collection: keys and lengths as JSON, values concatenated, so one
// call crosses into .NET whatever the number of rows.
export async function readAll(name, collection) {
  const tx = database(name).transaction("records", "readonly");
  const store = tx.objectStore("records");
  // Arrays sort after strings in IndexedDB: [collection, []] bounds every string key of the collection.
  const range = IDBKeyRange.bound([collection, ""], [collection, []]);
  const [keys, values] = await Promise.all([request(store.getAllKeys(range)), request(store.getAll(range))]);
  let total = 0;
  for (const v of values) {
    total += v.byteLength;
  }
  const joined = new Uint8Array(total);
  const lengths = [];
  let offset = 0;
  for (const v of values) {
    const bytes = v instanceof Uint8Array ? v : new Uint8Array(v);
    joined.set(bytes, offset);
    offset += bytes.byteLength;
    lengths.push(bytes.byteLength);
  }
  return { keys: JSON.stringify(keys.map(k => k[1])), lengths: JSON.stringify(lengths), values: joined };
}

// One batch: collections[i], keys[i] and lengths[i] describe write i; its value is the next
// lengths[i] bytes of values, or a delete when lengths[i] is -1.
export function write(name, collections, keys, lengths, values) {
  const bytes = values instanceof Uint8Array ? values : Uint8Array.from(values);
  return new Promise((resolve, reject) => {
    const tx = database(name).transaction("records", "readwrite", { durability: "strict" });
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
    const store = tx.objectStore("records");
    let offset = 0;
    for (let i = 0; i < keys.length; i++) {
      const key = [collections[i], keys[i]];
      if (lengths[i] < 0) {
        store.delete(key);
      } else {
        // A copy: the stored value must not alias the batch buffer.
        store.put(bytes.slice(offset, offset + lengths[i]), key);
        offset += lengths[i];
      }
    }
  });
}
