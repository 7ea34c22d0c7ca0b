/**
 * A damaged config.db at start-up (the not-a-database and bad-row cases are in daemon-lifecycle and
 * the store's unit tests): a file cut short, or with a page overwritten, is refused with a clear
 * message and exit 255, nothing is mounted, and the file is left byte for byte as it was, so the
 * operator can still rescue it. A zero-byte file is an empty database, as for the reference.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupAll, isMounted, makeTempDir, spawnDaemon, startDaemon, stopDaemon, type DaemonHandle } from './daemon-harness';

const started: DaemonHandle[] = [];
const track = (d: DaemonHandle) => (started.push(d), d);
afterEach(async () => {
  await cleanupAll(started.splice(0));
});

/** A database with a few files (one spanning many overflow pages), written by the daemon itself. */
async function populatedDb(): Promise<{ dir: string; db: string }> {
  const d = track(await startDaemon({ dir: makeTempDir() }));
  fs.mkdirSync(join(d.mnt, 'nodes'));
  for (let i = 0; i < 20; i++) fs.writeFileSync(join(d.mnt, `nodes/f${i}.cfg`), Buffer.alloc(3000, `row ${i} `));
  fs.writeFileSync(join(d.mnt, 'big.cfg'), Buffer.alloc(200 * 1024, 'big '));
  expect(await stopDaemon(d)).toBe(0);
  expect(fs.existsSync(`${d.db}-wal`) ? fs.statSync(`${d.db}-wal`).size : 0).toBe(0); // all in the main file
  return { dir: d.dir, db: d.db };
}

async function expectRefused(dir: string, db: string): Promise<string> {
  const before = fs.readFileSync(db);
  const d = track(spawnDaemon({ dir }));
  expect(await d.exited).toBe(255);
  expect(isMounted(d.mnt)).toBe(false);
  expect(fs.readFileSync(db).equals(before)).toBe(true);
  return d.stderr();
}

describe('a damaged config.db', () => {
  it('cut short: refused with a message, exit 255, file untouched', async () => {
    const { dir, db } = await populatedDb();
    const bytes = fs.readFileSync(db);
    fs.writeFileSync(db, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const err = await expectRefused(dir, db);
    expect(err).toMatch(/unable to (open|load) database/);
    expect(err).toMatch(/malformed|corrupt|not a database/i);
  });

  it('a page in the middle overwritten with garbage: refused, file untouched', async () => {
    const { dir, db } = await populatedDb();
    const bytes = fs.readFileSync(db);
    const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
    // Page 2 holds the table's root (or its first interior page): ruin it.
    bytes.fill(0xa5, pageSize, 2 * pageSize);
    fs.writeFileSync(db, bytes);
    const err = await expectRefused(dir, db);
    expect(err).toMatch(/unable to (open|load) database/);
  });

  it('a zero-byte file is an empty database (like the reference): it starts and is written', async () => {
    const dir = makeTempDir();
    fs.writeFileSync(join(dir, 'config.db'), '');
    const d = track(await startDaemon({ dir }));
    fs.writeFileSync(join(d.mnt, 'x.cfg'), 'x');
    expect(await stopDaemon(d)).toBe(0);
    const again = track(await startDaemon({ dir }));
    expect(fs.readFileSync(join(again.mnt, 'x.cfg'), 'utf8')).toBe('x');
  });
});
