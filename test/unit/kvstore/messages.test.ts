import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeUpdate, encodeUpdate, decodeLog, encodeLog, KvstoreMessage } from '../../../src/kvstore/messages';
import { packEntry } from '../../../src/kvstore/clog-entry';
import { rrdTargetFor } from '../../../src/kvstore/rrd-key';

describe('UPDATE payload', () => {
  it('is key char[256] NUL-padded + value', () => {
    const p = encodeUpdate('tasklist', Buffer.from('abc'));
    const expected = Buffer.alloc(259);
    expected.write('tasklist', 0, 'latin1');
    expected.write('abc', 256, 'latin1');
    expect(p.equals(expected)).toBe(true);
    const d = decodeUpdate(p);
    expect(d.ok && d.value.key).toBe('tasklist');
    expect(d.ok && d.value.value.toString()).toBe('abc');
    expect(KvstoreMessage).toEqual({ UPDATE: 1, UPDATE_COMPLETE: 2, LOG: 3 });
  });

  it('cuts long keys to 255 bytes and allows empty values (delete)', () => {
    const p = encodeUpdate('k'.repeat(300), Buffer.alloc(0));
    expect(p.length).toBe(256);
    expect(p[255]).toBe(0);
    const d = decodeUpdate(p);
    expect(d.ok && d.value.key.length).toBe(255);
    expect(d.ok && d.value.value.length).toBe(0);
  });

  it('rejects short payloads and unterminated keys', () => {
    const short = decodeUpdate(Buffer.alloc(255));
    expect(!short.ok && short.error.code).toBe('short');
    const unterminated = decodeUpdate(Buffer.alloc(300, 0x41));
    expect(!unterminated.ok && unterminated.error.code).toBe('string');
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const r = decodeUpdate(Buffer.from(bytes));
        if (r.ok) expect(r.value.value.length).toBe(bytes.length - 256);
        else expect(['short', 'string']).toContain(r.error.code);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('LOG payload', () => {
  it('round-trips one entry byte for byte', () => {
    const e = packEntry({ node: 'node2', ident: 'root@pam', tag: 'pvedaemon', pid: 77, time: 1716890100, priority: 5, msg: 'ok' }, 12)!;
    const p = encodeLog(e);
    expect(p.length).toBe(48 + 6 + 9 + 10 + 3);
    const d = decodeLog(p);
    expect(d.ok && d.value.bytes.equals(p)).toBe(true);
  });
});

describe('RRD keys (spec §11.2)', () => {
  it('maps legacy node keys, skips 2 columns and pads 7 U', () => {
    const t = rrdTargetFor('pve2-node/node1', '86400:c:1716890000:0.12:8:0.015:0.0003:1:2:3:4:5:6:7:8');
    expect(t).toEqual({ kind: 'node', file: 'pve-node-9.0/node1', update: '1716890000:0.12:8:0.015:0.0003:1:2:3:4:5:6:7:8:U:U:U:U:U:U:U' });
  });
  it('maps VM and storage keys', () => {
    expect(rrdTargetFor('pve2.3-vm/100', '3600:vm100:running:0:1716890000:2:0.01:1:2:3:4:5:6:7:8')).toEqual({
      kind: 'vm', file: 'pve-vm-9.0/100', update: '1716890000:2:0.01:1:2:3:4:5:6:7:8:U:U:U:U:U:U:U',
    });
    expect(rrdTargetFor('pve2-storage/node1/local', '1716890000:100:50')).toEqual({
      kind: 'storage', file: 'pve-storage-9.0/node1/local', update: '1716890000:100:50',
    });
  });
  it('keeps the current format and cuts newer ones', () => {
    const cols = Array.from({ length: 19 }, (_, i) => String(i));
    expect(rrdTargetFor('pve-node-9.0/n', `1:x:100:${cols.join(':')}`)).toMatchObject({ update: `100:${cols.join(':')}` });
    expect(rrdTargetFor('pve-node-10.0/n', `1:x:100:${cols.join(':')}:extra:more`)).toMatchObject({ file: 'pve-node-9.0/n', update: `100:${cols.join(':')}` });
    expect(rrdTargetFor('pve-storage-9.5/n/s', '100:1:2:3')).toMatchObject({ update: '100:1:2' });
  });
  it('refuses unknown keys and extra slashes', () => {
    for (const k of ['pve2-node/a/b', 'pve2-node/', 'pve2-storage/node1', 'pve2-storage/n/s/x', 'foo/bar', 'pve-vm-/100', 'pve-vm-9.0']) {
      expect(rrdTargetFor(k, '1:2')).toHaveProperty('error');
    }
  });
});
