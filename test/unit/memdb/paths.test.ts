import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isLockDir, isPrivateParts, isPrivatePath, normalizePath, parseGuestConfigPath, splitPath } from '../../../src/memdb/paths';

describe('paths', () => {
  it('splitPath skips empty parts; root forms give []', () => {
    expect(splitPath('')).toEqual([]);
    expect(splitPath('.')).toEqual([]);
    expect(splitPath('/')).toEqual([]);
    expect(splitPath('/a//b/')).toEqual(['a', 'b']);
    expect(normalizePath('/nodes/n1/')).toBe('nodes/n1');
  });

  it('private paths (spec §8.2)', () => {
    for (const p of ['priv', 'priv/', '/priv/lock/x', 'nodes/n1/priv', 'nodes/n1/priv/key.pem']) expect(isPrivatePath(p)).toBe(true);
    for (const p of ['', 'private', 'nodes', 'nodes/n1', 'nodes/n1/privx', 'nodes/priv', 'x/priv', 'nodes/n1/qemu-server/priv']) expect(isPrivatePath(p)).toBe(false);
  });

  it('lock dirs are exactly priv/lock/<name>', () => {
    expect(isLockDir('priv/lock/file-x')).toBe(true);
    expect(isLockDir('/priv/lock/a/')).toBe(true);
    expect(isLockDir('priv/lock')).toBe(false);
    expect(isLockDir('priv/lock/a/b')).toBe(false);
    expect(isLockDir('nodes/priv/lock')).toBe(false);
  });

  it('guest config paths (spec §8.6)', () => {
    expect(parseGuestConfigPath('nodes/pve1/qemu-server/100.conf')).toEqual({ node: 'pve1', type: 'qemu', vmid: 100 });
    expect(parseGuestConfigPath('nodes/a-b/lxc/99.conf')).toEqual({ node: 'a-b', type: 'lxc', vmid: 99 });
    expect(parseGuestConfigPath('nodes/N9/openvz/4294967295.conf')).toEqual({ node: 'N9', type: 'openvz', vmid: 4294967295 });
    for (const p of [
      'nodes/pve1/qemu-server/4294967296.conf',
      'nodes/pve1/qemu-server/0100.conf',
      'nodes/pve1/qemu-server/0.conf',
      'nodes/pve1/qemu-server/notavm.conf',
      'nodes/pve1/qemu-server/100.conf.tmp',
      'nodes/pve1/qemu-server/100.cfg',
      'nodes/pve1/qemu-server/+100.conf',
      'nodes/pve1/other/100.conf',
      'nodes/-pve/lxc/100.conf',
      'nodes/pve-/lxc/100.conf',
      'nodes/pve.example/lxc/100.conf',
      'nodes/pve1/lxc/sub/100.conf',
      'qemu-server/100.conf',
    ]) expect(parseGuestConfigPath(p)).toBeUndefined();
  });
});

describe('isPrivatePath without splitting', () => {
  it('answers as the split components do, for any path', () => {
    const component = fc.constantFrom('', 'priv', 'nodes', 'n1', 'privx', 'pri', '.', 'lock', 'x');
    fc.assert(
      fc.property(fc.array(component, { maxLength: 5 }), fc.boolean(), fc.boolean(), (parts, leading, trailing) => {
        const p = (leading ? '/' : '') + parts.join('/') + (trailing ? '/' : '');
        expect(isPrivatePath(p), p).toBe(isPrivateParts(splitPath(p)));
      }),
      { numRuns: 3000 },
    );
  });
});
