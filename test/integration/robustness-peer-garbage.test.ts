/**
 * A malformed message reaching the running daemon's dcdb DFSM over a real corosync: a foreign
 * process joins `pve_dcdb_v1` and multicasts bytes that are no DFSM message. The daemon must not
 * crash: it leaves the group (restartable), re-joins by itself once the intruder is gone, and
 * writes work again with nothing lost. (Decoder fuzzing is in the unit tests; this is the shell.)
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorosyncNamespace, JsonLinesProcess, corosyncAvailable } from '../helpers/corosync';
import { errnoOf, isMounted, killAndUnmount, makeTempDir } from './daemon-harness';

// The compiled daemon (npm test builds first): loading the TypeScript sources on the fly takes
// tens of seconds on a loaded 2-core machine, longer than the start-up waits.
const DAEMON_JS = resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');
const CLIENT_TS = resolve(__dirname, '..', 'helpers', 'corosync-client.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `probe` returns true; fails after `timeoutMs` (a hang, not a speed check). */
async function waitUntil(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = probe();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe.skipIf(!corosyncAvailable())('a malformed peer message to the running daemon', () => {
  let ns: CorosyncNamespace;
  let dir: string;
  let mnt: string;
  let daemon: ChildProcess;
  let log = '';
  const alive = () => daemon.exitCode === null && daemon.signalCode === null;

  beforeAll(async () => {
    ns = await CorosyncNamespace.create({ clusterName: 'garbage', configVersion: 1 });
    await ns.startCorosync();
    dir = makeTempDir('pmxcfs-garbage-');
    mnt = join(dir, 'mnt');
    daemon = ns.spawnNode(
      DAEMON_JS,
      ['-f', '--mount', mnt, '--db', join(dir, 'config.db'), '--nodename', 'node1', '--corosync-conf', ns.configPath],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { PMXCFS_RECONNECT_DELAY_MS: '1000' } },
    );
    daemon.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    await waitUntil('the mount', () => {
      if (!alive()) throw new Error(`daemon exited: ${log}`);
      return isMounted(mnt);
    });
  });

  afterAll(async () => {
    await killAndUnmount(daemon, mnt);
    await ns?.destroy();
    if (dir !== undefined && !isMounted(mnt)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('leaves the group, does not crash, and works again once the intruder is gone', async () => {
    await waitUntil(`a first write (log: ${log})`, () => errnoOf(() => fs.writeFileSync(join(mnt, 'before.cfg'), 'before\n')) === 'ok');

    const intruder = new JsonLinesProcess(ns.spawnNode(CLIENT_TS, [], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await intruder.waitFor((e) => e.ev === 'ready');
    intruder.send({ cmd: 'start', group: 'pve_dcdb_v1', reconnectDelayMs: 1000 });
    await intruder.waitFor((e) => e.ev === 'joined');
    for (const text of ['x', 'no DFSM header here, just some text bytes.........']) {
      const from = intruder.events.length;
      intruder.send({ cmd: 'mcast-one', text });
      const done = await intruder.waitFor((e) => e.ev === 'mcast-one-done', { from });
      expect(done.rc).toBe(0);
    }
    await waitUntil('the daemon to leave on the bad message', () => /short message|bad message/.test(log));
    expect(alive()).toBe(true);
    expect(fs.readFileSync(join(mnt, 'before.cfg'), 'utf8')).toBe('before\n');

    intruder.send({ cmd: 'stop' });
    await intruder.waitFor((e) => e.ev === 'stopped');

    await waitUntil(`writes to work again (log: ${log})`, () => errnoOf(() => fs.writeFileSync(join(mnt, 'after.cfg'), 'after\n')) === 'ok');
    expect(fs.readFileSync(join(mnt, 'before.cfg'), 'utf8')).toBe('before\n');
    expect(fs.readFileSync(join(mnt, 'after.cfg'), 'utf8')).toBe('after\n');
    expect(alive()).toBe(true);
    expect(log).not.toMatch(/TypeError|RangeError|uncaught|unhandled/i);
  });
});
