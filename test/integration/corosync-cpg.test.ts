/**
 * CpgGroup, QuorumTracker and ClusterConfigTracker against a real one-node corosync in a private
 * network namespace (test/helpers/corosync.ts), through a client process (test/helpers/corosync-client.ts).
 * Covers: join, 1,000 multicasts back in order with identical bytes, confchg with ourselves, quorum,
 * cmap info and its tracking; then corosync killed -9 under load (disconnected, EBUSY, quorum lost,
 * no hang, no crash), restarted (re-join by itself, messages flow), and a clean stop.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorosyncNamespace, JsonEvent, JsonLinesProcess, corosyncAvailable } from '../helpers/corosync';

const clientScript = path.resolve(__dirname, '..', 'helpers', 'corosync-client.ts');
const EBUSY = 16;
const GROUP = 'pve_test_v1';

describe.skipIf(!corosyncAvailable())('corosync shell against a real corosync', () => {
  let ns: CorosyncNamespace;
  let client: JsonLinesProcess;
  let self: { nodeid: number; pid: number };

  beforeAll(async () => {
    ns = await CorosyncNamespace.create({ clusterName: 'pmxtest', configVersion: 7 });
    await ns.startCorosync();
    client = new JsonLinesProcess(ns.spawnNode(clientScript, [], { stdio: ['pipe', 'pipe', 'pipe'] }));
    await client.waitFor((e) => e.ev === 'ready');
  });

  afterAll(async () => {
    await ns?.destroy();
  });

  it('joins the group and sees itself in the first confchg', async () => {
    client.send({ cmd: 'start', group: GROUP });
    const joined = await client.waitFor((e) => e.ev === 'joined');
    self = joined.self as typeof self;
    expect(self.nodeid).toBe(1);
    expect(self.pid).toBeGreaterThan(0);
    const confchg = await client.waitFor((e) => e.ev === 'confchg');
    expect(confchg.members).toEqual([self]);
    expect(confchg.joined).toEqual([self]);
    expect(confchg.left).toEqual([]);
  });

  it('becomes quorate', async () => {
    await client.waitFor((e) => e.ev === 'quorum' && e.quorate === true);
  });

  it('reads cluster name, config_version and nodelist from cmap', async () => {
    const event = await client.waitFor((e) => e.ev === 'cmap');
    expect(event.info).toEqual({
      clusterName: 'pmxtest',
      configVersion: 7,
      nodes: [{ nodeid: 1, name: 'node1', votes: 1 }],
    });
  });

  it('gets 1,000 multicasts back in order with identical bytes', async () => {
    const done = await client.request({ cmd: 'burst', count: 1000, size: 300 }, 'burst-done');
    expect(done).toMatchObject({ sentOk: 1000, received: 1000, inOrder: true, identical: 1000 });
  });

  it('carries a message of 1 MiB', async () => {
    const done = await client.request({ cmd: 'burst', count: 3, size: 1024 * 1024 }, 'burst-done');
    expect(done).toMatchObject({ sentOk: 3, received: 3, inOrder: true, identical: 3 });
  });

  it('measures the multicast round trip (reported, not asserted)', async () => {
    const done = await client.request({ cmd: 'rtt', count: 500 }, 'rtt-done');
    expect(done.count).toBe(500);
    console.log(`CPG round trip on one node: p50 ${Number(done.p50).toFixed(3)} ms, ` +
      `p99 ${Number(done.p99).toFixed(3)} ms, max ${Number(done.max).toFixed(3)} ms`);
  });

  it('follows a config reload in cmap (config_version)', async () => {
    const from = client.events.length;
    ns.writeConfig({ ...ns.options, configVersion: 8 });
    const reload = await ns.reload();
    expect(reload.code).toBe(0);
    const event = await client.waitFor((e) => e.ev === 'cmap', { from });
    expect((event.info as { configVersion: number }).configVersion).toBe(8);
  });

  it('survives corosync killed -9 under load: disconnected, EBUSY, quorum lost, nothing hangs', async () => {
    const from = client.events.length;
    await client.request({ cmd: 'flood-start' }, 'flood-started');
    // Let some sends complete before the kill.
    await new Promise((r) => setTimeout(r, 300));
    await ns.killCorosync('SIGKILL');
    const disconnected = await client.waitFor((e) => e.ev === 'disconnected', { from });
    expect(String(disconnected.reason)).toMatch(/CS_ERR_LIBRARY|cpg_dispatch failed/);
    await client.waitFor((e) => e.ev === 'quorum' && e.quorate === false, { from });
    const flood = await client.request({ cmd: 'flood-stop' }, 'flood-done');
    expect(flood.settled).toBe(true);
    expect(flood.resolved).toBe(flood.started);
    const results = flood.results as Record<string, number>;
    expect(Object.keys(results).every((rc) => rc === '0' || rc === String(-EBUSY))).toBe(true);
    expect(results[String(-EBUSY)] ?? 0).toBeGreaterThan(0);
    // While corosync is away a new send answers EBUSY at once.
    const one = await client.request({ cmd: 'mcast-one' }, 'mcast-one-done');
    expect(one.rc).toBe(-EBUSY);
  });

  it('re-joins by itself after corosync restarts, and messages flow again', async () => {
    const from = client.events.length;
    await ns.startCorosync();
    const joined = await client.waitFor((e) => e.ev === 'joined', { from });
    expect((joined.self as typeof self).pid).toBe(self.pid);
    const confchg = await client.waitFor((e) => e.ev === 'confchg', { from });
    expect(confchg.members).toEqual([self]);
    await client.waitFor((e) => e.ev === 'quorum' && e.quorate === true, { from });
    const done = await client.request({ cmd: 'burst', count: 200, size: 100 }, 'burst-done');
    expect(done).toMatchObject({ sentOk: 200, received: 200, inOrder: true, identical: 200 });
  });

  it('leave() drops out of the group and joins again later', async () => {
    const from = client.events.length;
    await client.request({ cmd: 'leave' }, 'leave-done');
    const disconnected = await client.waitFor((e) => e.ev === 'disconnected', { from });
    expect(disconnected.reason).toBe('left the group');
    await client.waitFor((e) => e.ev === 'joined', { from });
    const done = await client.request({ cmd: 'burst', count: 10, size: 10 }, 'burst-done');
    expect(done).toMatchObject({ sentOk: 10, received: 10, inOrder: true });
  });

  it('a delivery the handler throws on makes it leave the group and join again; messages flow after', async () => {
    const from = client.events.length;
    const sent = await client.request({ cmd: 'mcast-one', text: 'throw' }, 'mcast-one-done');
    expect(sent.rc).toBe(0);
    const threw = await client.waitFor((e) => e.ev === 'log' && e.level === 'error' && String(e.message).includes('handler.deliver threw'), { from });
    expect(String(threw.message)).toContain('injected handler failure');
    const disconnected = await client.waitFor((e) => e.ev === 'disconnected', { from });
    expect(disconnected.reason).toBe('left the group');
    await client.waitFor((e) => e.ev === 'joined', { from });
    const done = await client.request({ cmd: 'burst', count: 10, size: 10 }, 'burst-done');
    expect(done).toMatchObject({ sentOk: 10, received: 10, inOrder: true });
  });

  it('never crashed, and exits by itself after stop()', async () => {
    expect(client.events.filter((e: JsonEvent) => e.ev === 'fatal')).toEqual([]);
    await client.request({ cmd: 'stop' }, 'stopped');
    const exit = await client.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    // Only the injected handler failure and the leave it caused.
    const errors = client.events.filter((e) => e.ev === 'log' && e.level === 'error' &&
      !String(e.message).includes('injected handler failure') && !String(e.message).includes('leaving the group to start over'));
    expect(errors).toEqual([]);
  });
});
