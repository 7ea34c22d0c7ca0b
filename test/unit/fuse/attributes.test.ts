import { describe, expect, it } from 'vitest';
import { acceptedChmodMode, buildStat, isOpenvzScriptName, permissionBits } from '../../../src/fuse/attributes';
import { encodeAttrOut } from '../../../src/fuse/kernel/abi';
import { VALIDITY, kernelAttr } from '../../../src/fuse/kernel-ops';
import fc from 'fast-check';
import { STATUS_FILE_NAMES, VIRTUAL_LINK_NAMES, resolvePath } from '../../../src/fuse/virtual-entries';

describe('permission model (spec §8.2)', () => {
  it('quorate: dirs 0755, files 0640, private 0700/0600, root 0755', () => {
    expect(permissionBits('dir', 'nodes', true)).toBe(0o755);
    expect(permissionBits('file', 'storage.cfg', true)).toBe(0o640);
    expect(permissionBits('dir', 'priv', true)).toBe(0o700);
    expect(permissionBits('file', 'priv/authkey.key', true)).toBe(0o600);
    expect(permissionBits('file', 'nodes/n1/priv/x', true)).toBe(0o600);
    expect(permissionBits('dir', '', true)).toBe(0o755);
    expect(permissionBits('link', 'local', true)).toBe(0o755);
  });

  it('not quorate: write bits gone (files 0440, dirs 0555, private 0500/0400)', () => {
    expect(permissionBits('dir', 'nodes', false)).toBe(0o555);
    expect(permissionBits('file', 'storage.cfg', false)).toBe(0o440);
    expect(permissionBits('dir', 'priv', false)).toBe(0o500);
    expect(permissionBits('file', 'priv/x', false)).toBe(0o400);
    expect(permissionBits('link', 'local', false)).toBe(0o555);
  });

  // Observed on the reference (2026-12-07): 101.mount -rwxr-----, priv/t/101.mount -rwx------.
  it('OpenVZ action scripts (<vmid>.mount, vps.start, ...) get the owner execute bit, anywhere', () => {
    for (const name of ['101.mount', 'vps.start', 'vps.stop', '1.umount', '9.premount', '5.postumount', '4294967296.mount']) {
      expect(permissionBits('file', `t/${name}`, true)).toBe(0o740);
      expect(permissionBits('file', name, false)).toBe(0o540);
    }
    expect(permissionBits('file', 'priv/t/101.mount', true)).toBe(0o700);
    for (const name of ['0.mount', '01.mount', '1x.mount', '1.mountx', 'vps.mountx', '1.start.sh', 'x.stop', '.mount', 'vpsx.start']) {
      expect(permissionBits('file', `t/${name}`, true)).toBe(0o640);
    }
    expect(permissionBits('dir', 't/102.mount', true)).toBe(0o755);
    expect(acceptedChmodMode('t/101.mount')).toBe(0o640);
  });

  it('chmod accepts 0600 on private paths and 0640 elsewhere', () => {
    expect(acceptedChmodMode('priv/x')).toBe(0o600);
    expect(acceptedChmodMode('nodes')).toBe(0o640);
  });

  it('stat: 4 KiB blocks, whole seconds, atime = ctime = mtime', () => {
    const st = buildStat({ kind: 'file', perm: 0o640, size: 1024 * 1024, mtime: 1234, gid: 33 });
    expect(st.blocks).toBe(256);
    expect(buildStat({ kind: 'file', perm: 0o440, size: 5000, mtime: 1234, gid: 33, virtual: true }).blocks).toBe(0);
    expect(st.mode).toBe(0o100640);
    // What the kernel gets (fuse_attr_out: attr at 16, atime/mtime/ctime at +24/+32/+40, nsec 0).
    const out = encodeAttrOut(kernelAttr(7, st), VALIDITY);
    expect([24, 32, 40].map((at) => out.readBigUInt64LE(16 + at))).toEqual([1234n, 1234n, 1234n]);
    expect([48, 52, 56].map((at) => out.readUInt32LE(16 + at))).toEqual([0, 0, 0]);
    expect([st.uid, st.gid, st.nlink]).toEqual([0, 33, 1]);
  });
});

describe('resolvePath', () => {
  it('virtual names at the root only; below them nothing', () => {
    expect(resolvePath('/local')).toEqual({ kind: 'link', name: 'local' });
    expect(resolvePath('/.version')).toEqual({ kind: 'status', name: '.version' });
    expect(resolvePath('/.version/x')).toEqual({ kind: 'below-virtual' });
    expect(resolvePath('/nodes/local')).toEqual({ kind: 'memdb', path: 'nodes/local' });
    expect(resolvePath('/')).toEqual({ kind: 'memdb', path: '' });
    expect(resolvePath('//a//b/')).toEqual({ kind: 'memdb', path: 'a/b' });
    expect(resolvePath('/local/')).toEqual({ kind: 'link', name: 'local' });
    expect(resolvePath('a/./b')).toEqual({ kind: 'memdb', path: 'a/./b' });
  });

  it('the fast path for canonical paths gives what splitting gives, for any path', () => {
    const bySplitting = (p: string) => {
      const parts = p.split('/').filter((x) => x.length > 0);
      const first = parts[0];
      const isLink = first !== undefined && (VIRTUAL_LINK_NAMES as readonly string[]).includes(first);
      const isStatus = first !== undefined && (STATUS_FILE_NAMES as readonly string[]).includes(first);
      if (isLink || isStatus) {
        if (parts.length > 1) return { kind: 'below-virtual' };
        return isLink ? { kind: 'link', name: first } : { kind: 'status', name: first };
      }
      return { kind: 'memdb', path: parts.join('/') };
    };
    const component = fc.constantFrom('', 'a', 'local', 'lxc', '.vmlist', '.', 'nodes', 'x.tmp', 'ä');
    fc.assert(
      fc.property(fc.array(component, { maxLength: 5 }), fc.boolean(), (parts, leading) => {
        const p = (leading ? '/' : '') + parts.join('/');
        expect(resolvePath(p)).toEqual(bySplitting(p));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('OpenVZ action scripts', () => {
  it('<vmid>.<action> and vps.<action> are scripts; other names are not', () => {
    for (const n of ['101.mount', '9.stop', 'vps.start', 'vps.postumount', '1000.premount']) expect(isOpenvzScriptName(n), n).toBe(true);
    for (const n of ['0.mount', '01.mount', 'a101.mount', '101.conf', 'vpsx.mount', 'vps', '101.', '.mount', '', 'vps.mountx']) {
      expect(isOpenvzScriptName(n), n).toBe(false);
    }
  });
});
