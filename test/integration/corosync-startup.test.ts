/**
 * The shell started before corosync (pmxcfs starts first, spec §7): not quorate, no cluster info,
 * sends answer EBUSY, nothing crashes; once corosync is up everything connects by itself. Also a
 * multicast made from inside the delivery callback.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorosyncNamespace, JsonLinesProcess, corosyncAvailable } from '../helpers/corosync';

const clientScript = path.resolve(__dirname, '..', 'helpers', 'corosync-client.ts');
const EBUSY = 16;

describe.skipIf(!corosyncAvailable())('corosync shell started before corosync', () => {
  let ns: CorosyncNamespace;
  let client: JsonLinesProcess;

  beforeAll(async () => {
    ns = await CorosyncNamespace.create({ clusterName: 'early', configVersion: 2 });
    client = new JsonLinesProcess(ns.spawnNode(clientScript, [], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await client.waitFor((e) => e.ev === 'ready');
  });

  afterAll(async () => {
    await ns?.destroy();
  });

  it('starts without corosync: not quorate, no info, EBUSY', async () => {
    const started = await client.request({ cmd: 'start', group: 'pve_early_v1', reconnectDelayMs: 1000 }, 'started');
    expect(started.quorate).toBe(false);
    expect(started.info).toBeNull();
    const one = await client.request({ cmd: 'mcast-one' }, 'mcast-one-done');
    expect(one.rc).toBe(-EBUSY);
    // Failures are logged once per state, not once per retry: the first one, then a window of a few
    // retries (1 s apart) in which no second line may appear.
    await client.waitFor((e) => e.ev === 'log' && /cpg_initialize failed/.test(String(e.message)));
    await new Promise((r) => setTimeout(r, 2500));
    const initFailures = client.events.filter((e) => e.ev === 'log' && /cpg_initialize failed/.test(String(e.message)));
    expect(initFailures).toHaveLength(1);
  });

  it('connects by itself once corosync is up', async () => {
    const from = client.events.length;
    await ns.startCorosync();
    await client.waitFor((e) => e.ev === 'joined', { from });
    await client.waitFor((e) => e.ev === 'quorum' && e.quorate === true, { from });
    const cmap = await client.waitFor((e) => e.ev === 'cmap', { from });
    expect(cmap.info).toMatchObject({ clusterName: 'early', configVersion: 2 });
  });

  it('multicasts from inside the delivery callback', async () => {
    const from = client.events.length;
    await client.request({ cmd: 'mcast-one', text: 'ping' }, 'mcast-one-done');
    const sent = await client.waitFor((e) => e.ev === 'pong-sent', { from });
    expect(sent.rc).toBe(0);
    await client.waitFor((e) => e.ev === 'pong-delivered', { from });
  });

  it('exits by itself after stop()', async () => {
    await client.request({ cmd: 'stop' }, 'stopped');
    expect(await client.exited).toEqual({ code: 0, signal: null });
    expect(client.events.filter((e) => e.ev === 'fatal')).toEqual([]);
  });
});
