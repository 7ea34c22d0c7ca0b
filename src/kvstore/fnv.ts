/**
 * 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3), the digest the cluster log
 * keeps of node and ident strings (spec §11.1). Callers hash C strings *including* their NUL.
 */

const FNV1A_64_BASIS = 0xcbf29ce484222325n;
const FNV1A_64_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;

export function fnv1a64(bytes: Uint8Array, basis: bigint = FNV1A_64_BASIS): bigint {
  let hash = basis;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= BigInt(bytes[i]!);
    hash = (hash * FNV1A_64_PRIME) & MASK_64;
  }
  return hash;
}

/** Digest of a string as the reference computes it: its UTF-8 bytes followed by one NUL. */
export function fnv1a64CString(s: string): bigint {
  const utf8 = Buffer.from(s, 'utf8');
  const withNul = Buffer.alloc(utf8.length + 1);
  utf8.copy(withNul);
  return fnv1a64(withNul);
}
