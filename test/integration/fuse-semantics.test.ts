/**
 * The mount as users see it in local mode: errno rules (spec §2, §8, §14), modes and owners,
 * virtual entries, renames, VMID uniqueness, the 1 MiB limit.
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asWwwData, cleanup, errnoOf, startDaemon, type DaemonHandle } from './daemon-harness';

let d: DaemonHandle;
let M: string;
const p = (rel: string) => join(M, rel);
const perm = (rel: string) => fs.lstatSync(p(rel)).mode & 0o7777;
/** mknod(2) of `rel` with file type `type` (a Python stat constant): 'ok' or the errno name. */
function mknod(rel: string, type: 'S_IFREG' | 'S_IFIFO'): string {
  const script = 'import errno,os,stat,sys\ntry:\n os.mknod(sys.argv[1], 0o644 | getattr(stat, sys.argv[2]))\n print("ok")\nexcept OSError as e:\n print(errno.errorcode[e.errno])\n';
  const r = spawnSync('python3', ['-c', script, p(rel), type], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout.trim();
}

beforeAll(async () => {
  d = await startDaemon();
  M = d.mnt;
});
afterAll(async () => {
  await cleanup(d);
});

describe('fresh mount', () => {
  it('lists only the special files and the four symlinks at the root', () => {
    expect(fs.readdirSync(M).sort()).toEqual(
      ['.clusterlog', '.debug', '.members', '.rrd', '.version', '.vmlist', 'local', 'lxc', 'openvz', 'qemu-server'].sort(),
    );
  });

  it('root is 0755 root:www-data; symlinks point into this node', () => {
    const st = fs.statSync(M);
    expect(st.mode & 0o7777).toBe(0o755);
    expect(st.uid).toBe(0);
    expect(st.gid).toBe(33);
    expect(fs.readlinkSync(p('local'))).toBe('nodes/node1');
    expect(fs.readlinkSync(p('qemu-server'))).toBe('nodes/node1/qemu-server');
    expect(fs.readlinkSync(p('lxc'))).toBe('nodes/node1/lxc');
    expect(fs.readlinkSync(p('openvz'))).toBe('nodes/node1/openvz');
    expect(fs.lstatSync(p('local')).size).toBe('nodes/node1'.length);
    expect(perm('local')).toBe(0o755);
  });

  it('status files are 0440, .debug 0640, st_size equals the bytes read', () => {
    for (const f of ['.version', '.members', '.vmlist', '.rrd', '.clusterlog']) {
      expect(perm(f)).toBe(0o440);
      expect(fs.statSync(p(f)).size).toBe(fs.readFileSync(p(f)).length);
    }
    expect(perm('.debug')).toBe(0o640);
  });
});

describe('modes, owners, times', () => {
  it('dirs 0755, files 0640, private 0700/0600; modes given to mkdir/create are ignored', () => {
    fs.mkdirSync(p('d1'), 0o700);
    fs.writeFileSync(p('d1/f'), 'x', { mode: 0o777 });
    fs.mkdirSync(p('priv'));
    fs.writeFileSync(p('priv/secret'), 's');
    fs.mkdirSync(p('nodes'));
    fs.mkdirSync(p('nodes/node1'));
    fs.mkdirSync(p('nodes/node1/priv'));
    fs.writeFileSync(p('nodes/node1/priv/key'), 'k');
    expect(perm('d1')).toBe(0o755);
    expect(perm('d1/f')).toBe(0o640);
    expect(perm('priv')).toBe(0o700);
    expect(perm('priv/secret')).toBe(0o600);
    expect(perm('nodes/node1/priv')).toBe(0o700);
    expect(perm('nodes/node1/priv/key')).toBe(0o600);
    const st = fs.statSync(p('d1/f'));
    expect([st.uid, st.gid]).toEqual([0, 33]);
    expect(fs.statSync(p('d1')).nlink).toBe(2);
    expect(st.nlink).toBe(1);
  });

  it('a file renamed into priv/ reads back 0600', () => {
    fs.writeFileSync(p('moveme'), 'm');
    expect(perm('moveme')).toBe(0o640);
    fs.renameSync(p('moveme'), p('priv/moved'));
    expect(perm('priv/moved')).toBe(0o600);
  });

  // Observed on the reference side by side (2026-12-07, lab/compat/openvz-modes.sh).
  it('OpenVZ action scripts (<vmid>.mount, vps.start, ...) read back 0740 and pass access(X_OK); the root shows mtime 0', () => {
    for (const name of ['101.mount', 'vps.start', '5.postumount']) fs.writeFileSync(p(`d1/${name}`), '#!/bin/sh\n');
    for (const name of ['0.mount', '1.mountx', 'x.stop']) fs.writeFileSync(p(`d1/${name}`), '');
    fs.writeFileSync(p('priv/101.mount'), '');
    expect(['101.mount', 'vps.start', '5.postumount', '0.mount', '1.mountx', 'x.stop'].map((n) => perm(`d1/${n}`))).toEqual([
      0o740, 0o740, 0o740, 0o640, 0o640, 0o640,
    ]);
    expect(perm('priv/101.mount')).toBe(0o700);
    expect(errnoOf(() => fs.accessSync(p('d1/101.mount'), fs.constants.X_OK))).toBe('ok');
    expect(errnoOf(() => fs.chmodSync(p('d1/101.mount'), 0o740))).toBe('EPERM');
    expect(fs.statSync(M).mtimeMs).toBe(0);
  });

  it('access(X_OK) on a file is EACCES', () => {
    expect(errnoOf(() => fs.accessSync(p('d1/f'), fs.constants.X_OK))).toBe('EACCES');
  });

  it('chmod succeeds only with 0640 (0600 in private paths) and changes nothing', () => {
    expect(errnoOf(() => fs.chmodSync(p('d1/f'), 0o640))).toBe('ok');
    expect(errnoOf(() => fs.chmodSync(p('d1'), 0o640))).toBe('ok');
    expect(perm('d1')).toBe(0o755);
    expect(errnoOf(() => fs.chmodSync(p('d1/f'), 0o644))).toBe('EPERM');
    expect(errnoOf(() => fs.chmodSync(p('d1/f'), 0o600))).toBe('EPERM');
    expect(errnoOf(() => fs.chmodSync(p('priv/secret'), 0o600))).toBe('ok');
    expect(errnoOf(() => fs.chmodSync(p('priv/secret'), 0o640))).toBe('EPERM');
  });

  it('chown accepts only uid 0 / gid www-data (or -1)', () => {
    expect(errnoOf(() => fs.chownSync(p('d1/f'), 0, 33))).toBe('ok');
    expect(errnoOf(() => fs.chownSync(p('d1/f'), -1, -1))).toBe('ok');
    expect(errnoOf(() => fs.chownSync(p('d1/f'), 1, 33))).toBe('EPERM');
    expect(errnoOf(() => fs.chownSync(p('d1/f'), 0, 0))).toBe('EPERM');
  });

  it('times have whole seconds and atime = ctime = mtime; utimes sets all three', () => {
    fs.utimesSync(p('d1/f'), 1234567, 1234567);
    const st = fs.statSync(p('d1/f'));
    expect(st.mtimeMs).toBe(1234567000);
    expect(st.atimeMs).toBe(1234567000);
    expect(st.ctimeMs).toBe(1234567000);
    const fresh = fs.statSync(p('d1'));
    expect(fresh.mtimeMs % 1000).toBe(0);
  });

  it('st_blocks: ceil(size / 4096) for files and directories, 0 for status files and the four symlinks', () => {
    const sizes = [0, 1, 4096, 4097, 1024 * 1024];
    for (const size of sizes) fs.writeFileSync(p(`blocks-${size}`), Buffer.alloc(size, 1));
    expect(sizes.map((size) => fs.lstatSync(p(`blocks-${size}`)).blocks)).toEqual([0, 1, 1, 2, 256]);
    fs.mkdirSync(p('blocks-dir'));
    expect(fs.lstatSync(p('blocks-dir')).blocks).toBe(0);
    expect(fs.lstatSync(M).blocks).toBe(0);
    for (const name of ['.version', '.members', '.vmlist', '.rrd', '.clusterlog', '.debug', 'local', 'qemu-server', 'lxc', 'openvz']) {
      expect({ name, blocks: fs.lstatSync(p(name)).blocks }).toEqual({ name, blocks: 0 });
    }
    // not because they are empty
    expect(['.version', '.vmlist', 'local'].map((name) => fs.lstatSync(p(name)).size > 0)).toEqual([true, true, true]);
  });

  it('www-data reads non-private files but not priv/, and cannot write', () => {
    expect(asWwwData(['cat', p('d1/f')]).stdout).toBe('x');
    expect(asWwwData(['cat', p('.members')]).status).toBe(0);
    expect(asWwwData(['cat', p('priv/secret')]).status).not.toBe(0);
    expect(asWwwData(['ls', p('priv')]).status).not.toBe(0);
    expect(asWwwData(['sh', '-c', `echo y > ${p('d1/f')}`]).status).not.toBe(0);
    expect(fs.readFileSync(p('d1/f'), 'utf8')).toBe('x');
  });
});

describe('errno rules', () => {
  it('mkdir: ENOENT without parent, ENOTDIR below a file, EEXIST', () => {
    expect(errnoOf(() => fs.mkdirSync(p('nope/x')))).toBe('ENOENT');
    expect(errnoOf(() => fs.mkdirSync(p('d1/f/x')))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.mkdirSync(p('d1')))).toBe('EEXIST');
  });

  it('create O_EXCL of an existing file: EEXIST; rmdir of a non-empty dir: ENOTEMPTY', () => {
    expect(errnoOf(() => fs.openSync(p('d1/f'), 'wx'))).toBe('EEXIST');
    expect(errnoOf(() => fs.rmdirSync(p('d1')))).toBe('ENOTEMPTY');
  });

  it('link EPERM, symlink ENOSYS, mknod of a fifo ENOSYS; mknod of a regular file creates it', () => {
    expect(errnoOf(() => fs.linkSync(p('d1/f'), p('d1/hard')))).toBe('EPERM');
    expect(errnoOf(() => fs.symlinkSync('f', p('d1/sym')))).toBe('ENOSYS');
    expect(fs.existsSync(p('d1/hard'))).toBe(false);
    // Node has no mknod: Python's os.mknod is the syscall as is.
    expect(mknod('d1/fifo', 'S_IFIFO')).toBe('ENOSYS');
    expect(fs.existsSync(p('d1/fifo'))).toBe(false);
    expect(mknod('d1/reg', 'S_IFREG')).toBe('ok');
    const st = fs.statSync(p('d1/reg'));
    expect(st.isFile()).toBe(true);
    expect(st.size).toBe(0);
    expect(st.mode & 0o7777).toBe(0o640); // the mode asked for is ignored, as for create
    fs.unlinkSync(p('d1/reg'));
  });

  it('creating over an existing name is answered by the kernel: EEXIST, EISDIR for O_CREAT on a directory', () => {
    // These never reach the daemon (the kernel knows the name); the daemon's own answers for the
    // requests it can still get (a name it does not know yet) are in test/unit/fuse/kernel-ops.test.ts.
    expect(errnoOf(() => fs.openSync(p('d1'), fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY))).toBe('EEXIST');
    expect(errnoOf(() => fs.openSync(p('d1'), fs.constants.O_CREAT | fs.constants.O_WRONLY))).toBe('EISDIR');
    expect(mknod('d1', 'S_IFREG')).toBe('EEXIST');
    expect(mknod('d1/f', 'S_IFREG')).toBe('EEXIST');
    expect(errnoOf(() => fs.mkdirSync(p('d1/f')))).toBe('EEXIST');
    expect(errnoOf(() => fs.symlinkSync('x', p('d1')))).toBe('EEXIST');
    expect(fs.statSync(p('d1')).isDirectory()).toBe(true);
    expect(fs.statSync(p('d1/f')).isFile()).toBe(true);
  });

  it('virtual names: unlink/rename/mkdir/create on them EACCES', () => {
    expect(errnoOf(() => fs.unlinkSync(p('local')))).toBe('EACCES');
    expect(errnoOf(() => fs.unlinkSync(p('.vmlist')))).toBe('EACCES');
    expect(errnoOf(() => fs.renameSync(p('d1/f'), p('.version')))).toBe('EACCES');
    expect(errnoOf(() => fs.renameSync(p('.members'), p('d1/m')))).toBe('EACCES');
    expect(errnoOf(() => fs.writeFileSync(p('.vmlist'), 'x'))).toBe('EIO');
    expect(errnoOf(() => fs.utimesSync(p('.version'), 1, 1))).toBe('EACCES');
  });

  it('.debug accepts exactly "0\\n" or "1\\n"', () => {
    expect(errnoOf(() => fs.writeFileSync(p('.debug'), '1'))).toBe('EIO');
    expect(errnoOf(() => fs.writeFileSync(p('.debug'), 'x\n'))).toBe('EIO');
    expect(errnoOf(() => fs.writeFileSync(p('.debug'), '1\n'))).toBe('ok');
    expect(fs.readFileSync(p('.debug'), 'utf8')).toBe('1\n');
    expect(errnoOf(() => fs.writeFileSync(p('.debug'), '0\n'))).toBe('ok');
    expect(fs.readFileSync(p('.debug'), 'utf8')).toBe('0\n');
  });

  it('names of 256 characters are accepted', () => {
    const name = 'n'.repeat(256);
    fs.writeFileSync(p(name), 'x');
    expect(fs.readFileSync(p(name), 'utf8')).toBe('x');
    fs.unlinkSync(p(name));
  });

  it('statfs: 4 KiB blocks, 128 MiB, namemax 256', () => {
    const st = fs.statfsSync(M);
    expect(st.bsize).toBe(4096);
    expect(st.blocks).toBe(32768);
    expect(st.files).toBe(262144);
  });
});

describe('rename', () => {
  it('onto itself succeeds; dir over file ENOTDIR; file over dir EISDIR', () => {
    fs.mkdirSync(p('r'));
    fs.writeFileSync(p('r/file'), 'a');
    fs.mkdirSync(p('r/dir'));
    expect(errnoOf(() => fs.renameSync(p('r/file'), p('r/file')))).toBe('ok');
    expect(errnoOf(() => fs.renameSync(p('r/dir'), p('r/file')))).toBe('ENOTDIR');
    expect(errnoOf(() => fs.renameSync(p('r/file'), p('r/dir')))).toBe('EISDIR');
  });

  it('non-empty directories: ENOTEMPTY as source and as target', () => {
    fs.mkdirSync(p('r/full'));
    fs.writeFileSync(p('r/full/x'), 'x');
    fs.mkdirSync(p('r/empty'));
    expect(errnoOf(() => fs.renameSync(p('r/full'), p('r/moved')))).toBe('ENOTEMPTY');
    expect(errnoOf(() => fs.renameSync(p('r/empty'), p('r/full')))).toBe('ENOTEMPTY');
    expect(errnoOf(() => fs.renameSync(p('r/empty'), p('r/empty2')))).toBe('ok');
  });

  it('replaces an existing file (PVE writes tmp + rename)', () => {
    fs.writeFileSync(p('r/cfg'), 'old');
    fs.writeFileSync(p('r/cfg.tmp'), 'new');
    fs.renameSync(p('r/cfg.tmp'), p('r/cfg'));
    expect(fs.readFileSync(p('r/cfg'), 'utf8')).toBe('new');
    expect(fs.existsSync(p('r/cfg.tmp'))).toBe(false);
  });
});

describe('VMID uniqueness', () => {
  it('a second config with the same VMID on another node is EEXIST; a move between node dirs works', () => {
    for (const dir of ['nodes/node1/qemu-server', 'nodes/node1/lxc', 'nodes/node2', 'nodes/node2/qemu-server']) {
      fs.mkdirSync(p(dir), { recursive: true });
    }
    fs.writeFileSync(p('nodes/node1/qemu-server/100.conf'), 'memory: 512\n');
    expect(errnoOf(() => fs.writeFileSync(p('nodes/node2/qemu-server/100.conf'), 'x'))).toBe('EEXIST');
    expect(errnoOf(() => fs.writeFileSync(p('nodes/node1/lxc/100.conf'), 'x'))).toBe('EEXIST');
    // through the symlink too
    expect(fs.readFileSync(p('qemu-server/100.conf'), 'utf8')).toBe('memory: 512\n');
    expect(fs.readFileSync(p('.vmlist'), 'utf8')).toMatch(/"100": \{ "node": "node1", "type": "qemu", "version": \d+ \}/);

    fs.renameSync(p('nodes/node1/qemu-server/100.conf'), p('nodes/node2/qemu-server/100.conf'));
    expect(fs.readFileSync(p('.vmlist'), 'utf8')).toMatch(/"100": \{ "node": "node2", "type": "qemu", "version": \d+ \}/);
    expect(fs.readFileSync(p('nodes/node2/qemu-server/100.conf'), 'utf8')).toBe('memory: 512\n');

    // renaming another file onto a config path of a taken VMID
    fs.writeFileSync(p('nodes/node1/qemu-server/tmp'), 'y');
    expect(errnoOf(() => fs.renameSync(p('nodes/node1/qemu-server/tmp'), p('nodes/node1/qemu-server/100.conf')))).toBe(
      'EEXIST',
    );
  });

  it('VMID 99 is registered; notavm.conf and a directory named 9905.conf are not', () => {
    fs.writeFileSync(p('nodes/node1/qemu-server/99.conf'), '');
    fs.writeFileSync(p('nodes/node1/qemu-server/notavm.conf'), '');
    fs.mkdirSync(p('nodes/node1/qemu-server/9905.conf'));
    const text = fs.readFileSync(p('.vmlist'), 'utf8');
    expect(text).toContain('"99": { "node": "node1"');
    expect(text).not.toContain('"9905"');
    expect(text).not.toContain('notavm');
  });
});

describe('the 1 MiB limit', () => {
  const MiB = 1024 * 1024;
  it('a write crossing 1 MiB fails with EFBIG and leaves the first 1 MiB', () => {
    // From a page-aligned buffer (mmap) the kernel's chunks end exactly at 1 MiB; Python's
    // write loop reports the failing remainder as EFBIG, like the tools in the reference's notes.
    const script =
      'import mmap,sys\nb=mmap.mmap(-1,1048577)\nb.write(b"a"*1048577)\n' +
      'f=open(sys.argv[1],"wb",buffering=0)\ntry:\n n=f.write(b)\n f.write(memoryview(b)[n:])\n print("ok",n)\n' +
      'except OSError as e:\n print(e.errno)\n';
    const r = spawnSync('python3', ['-c', script, p('big')], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('27'); // EFBIG
    const st = fs.statSync(p('big'));
    expect(st.size).toBe(MiB);
    expect(st.blocks).toBe(256);
  });

  it('truncate beyond 1 MiB and a write at offset 1 MiB: EFBIG', () => {
    expect(errnoOf(() => fs.truncateSync(p('big'), MiB + 1))).toBe('EFBIG');
    const fd = fs.openSync(p('big'), 'r+');
    expect(errnoOf(() => fs.writeSync(fd, Buffer.from('z'), 0, 1, MiB))).toBe('EFBIG');
    fs.closeSync(fd);
    expect(fs.statSync(p('big')).size).toBe(MiB);
  });
});
