import { describe, expect, it } from 'vitest';
import { abstractSocketInUse } from '../../../src/ipc/ipc-service';

const header = 'Num       RefCount Protocol Flags    Type St Inode Path';
const line = (path: string) => `00000000542bdd80: 00000002 00000000 00010000 0001 01 1770093 ${path}`;

describe('abstractSocketInUse (/proc/net/unix)', () => {
  it('sees libqb\'s padded abstract name', () => {
    const table = [header, line('@pve2' + '@'.repeat(103)), ''].join('\n');
    expect(abstractSocketInUse('pve2', table)).toBe(true);
  });
  it('does not confuse a longer name or a path socket', () => {
    const table = [header, line('@pve2-test-1@@@@'), line('/run/pve2'), '00000000: 00000002 00000000 00010000 0001 01 1'].join('\n');
    expect(abstractSocketInUse('pve2', table)).toBe(false);
    expect(abstractSocketInUse('pve2-test-1', table)).toBe(true);
  });
});
