/**
 * @peculiar/x509 registers its algorithms with tsyringe, which refuses to load
 * unless `Reflect.getMetadata` exists (normally from the reflect-metadata
 * package, which mesh does not depend on). tsyringe only needs three
 * functions, so they are provided here, and only when missing.
 * mesh itself does not use @peculiar/x509; the tests use it to read
 * certificates back independently. Import this module before it.
 */
type Key = unknown;
interface MetadataReflect {
  defineMetadata?: (key: Key, value: unknown, target: object) => void;
  getOwnMetadata?: (key: Key, target: object) => unknown;
  getMetadata?: (key: Key, target: object) => unknown;
}

const R = Reflect as unknown as MetadataReflect;
if (typeof R.getMetadata !== "function") {
  const store = new WeakMap<object, Map<Key, unknown>>();
  R.defineMetadata = (key, value, target) => {
    let m = store.get(target);
    if (!m) store.set(target, (m = new Map()));
    m.set(key, value);
  };
  R.getOwnMetadata = (key, target) => store.get(target)?.get(key);
  R.getMetadata = (key, target) => {
    for (let t: object | null = target; t; t = Object.getPrototypeOf(t) as object | null) {
      const m = store.get(t);
      if (m?.has(key)) return m.get(key);
    }
    return undefined;
  };
}

export {};
