import { describe, expect, it } from 'vitest';
import { Errno, errnoName } from '../../../src/memdb/errno';

describe('errno names', () => {
  it('names known values whatever their sign', () => {
    expect(errnoName(-Errno.ENOENT)).toBe('ENOENT');
    expect(errnoName(Errno.EFBIG)).toBe('EFBIG');
  });
  it('falls back to E<n> for unknown values', () => {
    expect(errnoName(-4242)).toBe('E4242');
  });
});
