/**
 * Small helpers shared by the koffi declarations.
 * Every struct and prototype is named (prefix pmxcfs_): koffi 3.3 mixes up anonymous types declared in
 * different modules ("expected <anonymous_51> *" for a value of the right shape). Names live in one
 * registry per process, so a second load of a module (test isolation) reuses the existing type.
 */
import koffi, { LibraryHandle, TypeObject } from 'koffi';

/** Member name -> type, as koffi.struct takes it. */
type StructDefinition = Record<string, string | TypeObject>;

function existingType(name: string): TypeObject | null {
  try {
    return koffi.type(name);
  } catch {
    return null;
  }
}

/** koffi.struct(name, definition), or the type already declared under that name. */
export function namedStruct(name: string, definition: StructDefinition): TypeObject {
  return existingType(name) ?? koffi.struct(name, definition);
}

/** koffi.proto(name, result, args), or the prototype already declared under that name. */
export function namedProto(name: string, result: string, args: (string | TypeObject)[]): TypeObject {
  return existingType(name) ?? koffi.proto(name, result, args);
}

/** `_Out_ T *` */
export function outPointer(type: string | TypeObject) {
  return koffi.out(koffi.pointer(type));
}

/** Loads a shared library once, on first use, so that importing a module never needs corosync. */
export function lazyLibrary<T>(soname: string, declare: (lib: LibraryHandle) => T): () => T {
  let api: T | undefined;
  return () => {
    if (api === undefined) api = declare(koffi.load(soname));
    return api;
  };
}

const libc = lazyLibrary('libc.so.6', (lib) => ({
  memcpy: lib.func('void *memcpy(void *dest, const void *src, size_t n)') as (dest: Buffer, src: unknown, n: number) => unknown,
}));

/**
 * Reads `len` bytes at a C pointer into a Buffer the caller owns (the C memory is reused after the
 * callback). memcpy into a Buffer costs a fifth of wrapping the C memory in an ArrayBuffer to copy
 * from (koffi.view), which matters once per delivered message. Small copies come from Node's
 * buffer pool: whatever keeps message bytes for long copies them (memdb, kvstore).
 */
export function copyBytes(pointer: unknown, len: number): Buffer {
  if (len === 0 || pointer === null || pointer === undefined) return Buffer.alloc(0);
  const out = Buffer.allocUnsafe(len);
  libc().memcpy(out, pointer, len);
  return out;
}

/** A 64-bit handle as returned in an out slot (koffi gives a bigint or, when small, a number). */
export function asHandle(value: unknown): bigint {
  return typeof value === 'bigint' ? value : BigInt(value as number);
}
