/** copyBytes: the bytes at a C pointer, copied into a Buffer that stays valid after the C memory changes. */
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { copyBytes } from '../../../src/corosync/koffi-types';

describe('copyBytes', () => {
  it('copies exactly len bytes, and the copy does not follow later changes of the C memory', () => {
    const size = 6000;
    const ptr = koffi.alloc('uint8_t', size);
    try {
      const pattern = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff));
      koffi.encode(ptr, koffi.array('uint8_t', size, 'Typed'), new Uint8Array(pattern));
      for (const len of [1, 17, 300, 4095, 4096, size]) {
        const copy = copyBytes(ptr, len);
        expect(copy.length).toBe(len);
        expect(copy.equals(pattern.subarray(0, len))).toBe(true);
      }
      const kept = copyBytes(ptr, 64);
      koffi.encode(ptr, koffi.array('uint8_t', 64, 'Typed'), new Uint8Array(64));
      expect(kept.equals(pattern.subarray(0, 64))).toBe(true);
      expect(copyBytes(ptr, 64).equals(Buffer.alloc(64))).toBe(true);
    } finally {
      koffi.free(ptr);
    }
  });

  it('no pointer or no length: an empty buffer', () => {
    expect(copyBytes(null, 10).length).toBe(0);
    expect(copyBytes(undefined, 10).length).toBe(0);
  });
});
