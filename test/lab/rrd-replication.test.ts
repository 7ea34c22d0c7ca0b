// RRD replication end to end (spec §6, §11.2): a sample set with pve2 IPC SET_STATUS `rrd/<key>` on
// one node is written there and, through the kvstore, on every other node (every node keeps all
// nodes' RRD files). Garbage is answered or dropped without a file. A sample sent while a node is cut
// off never reaches it: the kvstore state is the cluster log only, and process_state_update
// re-broadcasts each node's local kv table — RRD samples are not in it (reference: cfs_kvstore_sync
// walks kvhash, not rrdhash) — so the node gets node1's values again with node1's next sample.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lab/wait';
import { NAMES, daemonPid, daemonStatus, ensureCluster, shOk, waitDaemonQuorate } from './cluster-checks';
import { lab } from './lab-fixture';
import { RRD_DIR, ipcIn, rrdDumpOn, rrdFileOn, type RrdHeader } from './rrd-lab';

const NODE_FILE = 'pve-node-9.0/node1';
const STORAGE_FILE = 'pve-storage-9.0/node1/local';
const PARTITION_FILE = 'pve-storage-9.0/node1/partition';
const AFTER_HEAL_FILE = 'pve-storage-9.0/node1/after-heal';
const MARKER_FILE = 'pve-storage-9.0/node2/marker';
const KV_KEY = 'lab-rrd-replication';
const ENOMEM = 12; // the reference's answer when its rrd table refuses a value
const EFBIG = 27;

// The 9.0 node layout of spec §11.2, written down here independently of src/rrd.
const NODE_SOURCES = [
  'loadavg', 'maxcpu', 'cpu', 'iowait', 'memtotal', 'memused', 'swaptotal', 'swapused', 'roottotal', 'rootused',
  'netin', 'netout', 'memavailable', 'arcsize', 'pressurecpusome', 'pressureiosome', 'pressureiofull',
  'pressurememorysome', 'pressurememoryfull',
];
const ARCHIVES = ['AVERAGE', 'MAX'].flatMap((cf) =>
  [
    [1, 1440],
    [30, 1440],
    [360, 1440],
    [10080, 570],
  ].map(([pdpPerRow, rows]) => ({ cf, rows, pdpPerRow })),
);
// A legacy pve2 node sample: uptime, subscription level, time, then 12 values.
const NODE_VALUES = ['1', '8', '1', '0', '16000', '8000', '4000', '0', '100000', '50000', '1000', '2000'];
const nodeSample = (t: number): string => `3600:c:${t}:${NODE_VALUES.join(':')}`;
const storageSample = (t: number): string => `${t}:1000000:250000`;

// Sample times strictly increasing within a run (librrd refuses an update that is not newer).
let lastTime = 0;
const sampleTime = (): number => (lastTime = Math.max(Math.floor(Date.now() / 1000), lastTime + 1));

/** Wait until `file` on `node` decodes and its last update is `time`; returns the header. */
async function waitRrdUpdated(node: string, file: string, time: number, timeoutMs = 60_000): Promise<RrdHeader> {
  const { value } = await waitUntil(
    `${RRD_DIR}/${file} on ${node} updated at ${time}`,
    () => rrdFileOn(node, file),
    (h) => typeof h === 'object' && h !== null && h.lastUpdate === time,
    { timeoutMs, intervalMs: 300 },
  );
  return value as RrdHeader;
}

/** Wait until each node's kvstore DFSM is synced with the given number of members. */
async function waitKvstoreSynced(nodes: readonly string[], members: number, timeoutMs = 60_000): Promise<void> {
  for (const node of nodes) {
    await waitUntil(
      `kvstore on ${node} synced with ${members} members`,
      () => daemonStatus(node),
      (s) => s?.dfsm?.kvstore.mode === 'SYNCED' && s.dfsm.kvstore.members.length === members,
      { timeoutMs, intervalMs: 300 },
    );
  }
}

describe('RRD replication across node1..node3', () => {
  const runTag = `run ${Date.now()}`;
  let t1 = 0;

  beforeAll(async () => {
    await ensureCluster();
    await waitKvstoreSynced(NAMES, NAMES.length);
    // Files of an earlier run (the containers are reused): every file this suite checks is made afresh.
    for (const n of NAMES) {
      await shOk(n, `rm -rf ${RRD_DIR}/pve-node-9.0/node1 ${RRD_DIR}/pve-node-9.0/node2 ${RRD_DIR}/pve-storage-9.0/node1 ${RRD_DIR}/pve-storage-9.0/node2`);
    }
  });

  afterAll(async () => {
    await (await lab()).heal(); // never leave the shared lab cut in pieces
    await ipcIn('node1', [{ op: 'set', key: KV_KEY, value: '', nul: false }]).catch(() => undefined); // empty value deletes
  });

  it('a node and a storage sample set on node1 are written as 9.0 RRD files on every node', async () => {
    t1 = sampleTime();
    const answers = await ipcIn('node1', [
      { op: 'set', key: 'rrd/pve2-node/node1', value: nodeSample(t1) },
      { op: 'set', key: 'rrd/pve2-storage/node1/local', value: storageSample(t1) },
    ]);
    expect(answers.map((a) => a.error)).toEqual([0, 0]);

    for (const n of NAMES) {
      const node = await waitRrdUpdated(n, NODE_FILE, t1);
      expect(node.version, `${n} ${NODE_FILE}`).toMatch(/^000[34]$/);
      expect(node.step).toBe(60);
      expect(node.sources.map((s) => s.name)).toEqual(NODE_SOURCES);
      expect(node.sources.map((s) => s.type)).toEqual(NODE_SOURCES.map((s) => (s === 'netin' || s === 'netout' ? 'DERIVE' : 'GAUGE')));
      expect(new Set(node.sources.map((s) => s.heartbeat))).toEqual(new Set([120]));
      expect(node.archives).toEqual(ARCHIVES);
      // The legacy 12 columns, padded with 7 unknowns to the 19 sources of the 9.0 layout.
      expect(node.lastValues).toEqual([...NODE_VALUES, ...new Array(7).fill('U')]);

      const storage = await waitRrdUpdated(n, STORAGE_FILE, t1);
      expect(storage.sources.map((s) => `${s.name}/${s.type}`), `${n} ${STORAGE_FILE}`).toEqual(['total/GAUGE', 'used/GAUGE']);
      expect(storage.archives).toEqual(ARCHIVES);
      expect(storage.lastValues).toEqual(['1000000', '250000']);

      // The files and their directories as librrd and the daemon made them (dirs 0750).
      const modes = await shOk(n, `stat -c '%a %F' ${RRD_DIR}/pve-storage-9.0/node1 ${RRD_DIR}/${STORAGE_FILE}`);
      expect(modes.trim().split('\n'), n).toEqual(['750 directory', expect.stringMatching(/^\d{3} regular file$/)]);
    }

    // Every node's `.rrd` lists both samples as they were sent (the cache of the last 300 s).
    for (const n of NAMES) {
      const { value } = await waitUntil(
        `both samples in /etc/pve/.rrd on ${n}`,
        () => rrdDumpOn(n),
        (d) => d.get('pve2-node/node1') === nodeSample(t1) && d.get('pve2-storage/node1/local') === storageSample(t1),
        { timeoutMs: 60_000, intervalMs: 500 }, // the dump is cached for 2 s
      );
      expect(value.get('pve2-node/node1'), n).toBe(nodeSample(t1));
      expect(value.get('pve2-storage/node1/local'), n).toBe(storageSample(t1));
    }
  });

  it('garbage from node2: malformed values are refused with an errno, a well-formed bad sample is cached but written nowhere', async () => {
    const pids = await Promise.all(NAMES.map(daemonPid));
    const tm = sampleTime();
    const answers = await ipcIn('node2', [
      { op: 'set', key: 'rrd/pve2-node/node2', value: `3600:c:${tm}:1:2:3`, nul: false }, // no terminating NUL
      { op: 'set', key: 'rrd/pve2-node/node2', value: 'x'.repeat(4095) }, // 4096 bytes with the NUL: too long for RRD
      { op: 'set', key: 'rrd/pve2-node/node2', value: 'x'.repeat(40_000) }, // beyond CFS_MAX_STATUS_SIZE
      { op: 'set', key: 'rrd/pve2-node/node2', value: 'this:is:not:a:sample' }, // a C string: cached and sent, not written
      { op: 'set', key: 'rrd/pve2-node/node2/extra', value: nodeSample(tm) }, // unknown/wrong key: cached, no file
      { op: 'set', key: 'rrd/pve2-storage/node2/marker', value: storageSample(tm) }, // a valid sample after them
    ]);
    expect(answers.map((a) => a.error)).toEqual([-ENOMEM, -ENOMEM, -EFBIG, 0, 0, 0]);

    // Each node applies node2's messages in the order sent: once the marker is written there, the
    // garbage before it was handled too.
    for (const n of NAMES) {
      await waitRrdUpdated(n, MARKER_FILE, tm);
      const listing = await shOk(n, `find ${RRD_DIR} -path '*node2*' | LC_ALL=C sort`);
      expect(listing.trim().split('\n'), `${n}: RRD files of node2`).toEqual([`${RRD_DIR}/pve-storage-9.0/node2`, `${RRD_DIR}/${MARKER_FILE}`]);
    }

    // The reference caches whatever C string came in (`.rrd` shows it as sent); refused values are not there.
    const { value: dump } = await waitUntil(
      'the marker in /etc/pve/.rrd on node1',
      () => rrdDumpOn('node1'),
      (d) => d.get('pve2-storage/node2/marker') === storageSample(tm),
      { timeoutMs: 60_000, intervalMs: 500 }, // the dump is cached for 2 s
    );
    expect(dump.get('pve2-node/node2')).toBe('this:is:not:a:sample');
    expect(dump.get('pve2-node/node2/extra')).toBe(nodeSample(tm));
    expect(dump.get('pve2-storage/node2/marker')).toBe(storageSample(tm));

    // No daemon died or restarted over it.
    expect(await Promise.all(NAMES.map(daemonPid))).toEqual(pids);
    expect(pids.every((p) => p !== null)).toBe(true);
  });

  it('a sample sent while node3 is cut off reaches node1 and node2 only; node3 gets node1\'s values with the next sample after the heal', async () => {
    await (await lab()).partition(['node3']);
    await waitKvstoreSynced(['node1', 'node2'], 2);
    await waitKvstoreSynced(['node3'], 1);

    const t2 = sampleTime();
    const kvValue = `set during the partition, ${runTag}`;
    const answers = await ipcIn('node1', [
      { op: 'set', key: 'rrd/pve2-node/node1', value: nodeSample(t2) },
      { op: 'set', key: 'rrd/pve2-storage/node1/partition', value: storageSample(t2) },
      { op: 'set', key: KV_KEY, value: kvValue }, // a plain kv entry: part of node1's local table
    ]);
    expect(answers.map((a) => a.error)).toEqual([0, 0, 0]);
    for (const n of ['node1', 'node2']) {
      await waitRrdUpdated(n, NODE_FILE, t2);
      await waitRrdUpdated(n, PARTITION_FILE, t2);
    }
    expect(await ipcIn('node2', [{ op: 'get', key: KV_KEY, node: 'node1' }])).toEqual([{ error: 0, data: `${kvValue}\0` }]);
    expect((await rrdFileOn('node3', NODE_FILE)) as RrdHeader).toMatchObject({ lastUpdate: t1 });
    expect(await rrdFileOn('node3', PARTITION_FILE)).toBeNull();

    await (await lab()).heal();
    await (await lab()).waitHealthy({ timeoutMs: 60_000 });
    await waitDaemonQuorate('node3', true);
    await waitKvstoreSynced(NAMES, NAMES.length);

    // node1 re-broadcast its local kv table while it synced (before it reported SYNCED); a sample it
    // sends now is delivered to node3 after that re-broadcast. Once node3 has written it, whatever
    // the re-broadcast carried is on node3 too.
    const t3 = sampleTime();
    expect((await ipcIn('node1', [{ op: 'set', key: 'rrd/pve2-storage/node1/after-heal', value: storageSample(t3) }]))[0]!.error).toBe(0);
    await waitRrdUpdated('node3', AFTER_HEAL_FILE, t3);

    // The plain kv entry came back through the re-broadcast...
    expect(await ipcIn('node3', [{ op: 'get', key: KV_KEY, node: 'node1' }])).toEqual([{ error: 0, data: `${kvValue}\0` }]);
    // ...the RRD samples of the partition did not: node3's files and cache still have node1's sample from before.
    expect((await rrdFileOn('node3', NODE_FILE)) as RrdHeader).toMatchObject({ lastUpdate: t1, lastValues: [...NODE_VALUES, ...new Array(7).fill('U')] });
    expect(await rrdFileOn('node3', PARTITION_FILE)).toBeNull();
    const dump = await waitUntil(
      'the after-heal sample in /etc/pve/.rrd on node3',
      () => rrdDumpOn('node3'),
      (d) => d.has('pve2-storage/node1/after-heal'),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(dump.value.get('pve2-storage/node1/partition')).toBeUndefined();
    expect(dump.value.get('pve2-node/node1')).toBe(nodeSample(t1));

    // node1's next regular sample (pvestatd sends one every 10 s) brings node3 up to date.
    const t4 = sampleTime();
    expect((await ipcIn('node1', [{ op: 'set', key: 'rrd/pve2-node/node1', value: nodeSample(t4) }]))[0]!.error).toBe(0);
    for (const n of NAMES) await waitRrdUpdated(n, NODE_FILE, t4);
    for (const n of NAMES) {
      const { value } = await waitUntil(
        `node1's latest sample in /etc/pve/.rrd on ${n}`,
        () => rrdDumpOn(n),
        (d) => d.get('pve2-node/node1') === nodeSample(t4),
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(value.get('pve2-node/node1'), n).toBe(nodeSample(t4));
    }
  });
});
