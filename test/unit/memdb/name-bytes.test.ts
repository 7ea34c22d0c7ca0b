import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { decodeUpdate, encodeUpdate } from '../../../src/dcdb/update';
import { decodeFsMessage, encodeFsMessage } from '../../../src/dcdb/messages';
import { entryRecord } from '../../../src/memdb/checksum';
import { MemDb } from '../../../src/memdb/memdb';
import { decodeNameBytes, encodeNameBytes } from '../../../src/memdb/name-bytes';
import { SqliteTreeStore } from '../../../src/memdb/sqlite-store';

const hex = (s: string) => Buffer.from(s, 'hex');
/** The name a reference node created in a mixed cluster (`printf 'bad\377name'`), as its config.db held it. */
const BAD = hex('626164ff6e616d65');

describe('names as bytes (lossless)', () => {
  it('valid UTF-8 decodes as usual; every other byte round-trips through a lone surrogate', () => {
    for (const s of ['plain.cfg', 'größe-ü', '\u{1F600}', '\uFEFFbom', 'real-\uFFFD', 'nul\u0000cut']) {
      expect(decodeNameBytes(Buffer.from(s, 'utf8'))).toBe(s);
      expect(encodeNameBytes(s)).toEqual(Buffer.from(s, 'utf8'));
    }
    const samples = [BAD, hex('ff'), hex('fe'), hex('80'), hex('c328'), hex('c3'), hex('e282'), hex('eda080'), hex('c0af'), hex('f4908080'), hex('f09f98'), hex('61ed b280'.replace(' ', ''))];
    const decoded = samples.map(decodeNameBytes);
    expect(new Set(decoded).size).toBe(samples.length); // different bytes, different names
    samples.forEach((b, i) => expect(encodeNameBytes(decoded[i]!)).toEqual(b));
    expect(decodeNameBytes(BAD)).toBe('bad\udcffname');
  });

  it('a peer name that is not UTF-8 goes to the wire, the checksum record and config.db as the same bytes', () => {
    const name = decodeNameBytes(BAD);
    const row = { inode: 7, parent: 0, version: 7, writer: 1, mtime: 1796637364, type: 8 as const, name, data: Buffer.from('bad\n') };
    const wire = encodeUpdate(row);
    expect(wire.includes(Buffer.concat([BAD, Buffer.alloc(1)]))).toBe(true);
    const back = decodeUpdate(wire);
    expect(back.ok && back.value.name).toBe(name);
    expect(entryRecord(row).includes(BAD)).toBe(true);
    const msg = encodeFsMessage({ type: 5, offset: 0, flags: 0, path: `dir/${name}`, to: undefined, data: Buffer.alloc(0) });
    expect(msg.includes(Buffer.concat([Buffer.from('dir/'), BAD, Buffer.alloc(1)]))).toBe(true);
    const parsed = decodeFsMessage(5, msg);
    expect(parsed.ok && parsed.value.path).toBe(`dir/${name}`);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'names-'));
    try {
      const file = path.join(dir, 'config.db');
      const db = MemDb.open(SqliteTreeStore.open(file), 1000);
      expect(db.apply({ kind: 'create', path: name }, { writer: 1, mtime: 1000 }, 1000)).toBe(0);
      db.close();
      const d = new Database(file, { readonly: true });
      const stored = d.prepare("SELECT hex(name) AS h, typeof(name) AS t FROM tree WHERE inode != 0").get() as { h: string; t: string };
      d.close();
      expect(stored).toEqual({ h: BAD.toString('hex').toUpperCase(), t: 'text' }); // the reference's row: 626164FF6E616D65, TEXT
      const again = MemDb.open(SqliteTreeStore.open(file), 2000);
      expect(again.lookup(name)).toBeDefined();
      again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
