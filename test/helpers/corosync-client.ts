/**
 * A client program for the corosync integration tests; it runs inside the test's network namespace
 * (CorosyncNamespace.spawnNode) and talks JSON lines: commands on stdin, events on stdout.
 * It uses the real shell classes: CpgGroup, QuorumTracker, ClusterConfigTracker.
 *
 * Commands: {cmd:"start", group, reconnectDelayMs?} {cmd:"burst", count, size}
 *   {cmd:"rtt", count} {cmd:"flood-start"} {cmd:"flood-stop"} {cmd:"mcast-one"} {cmd:"leave"} {cmd:"stop"}
 * Events: ready, joined, confchg, disconnected, quorum, cmap, burst-done, rtt-done, flood-done,
 *   mcast-one-done, stopped, log, fatal.
 */
import * as readline from 'node:readline';
import type { GroupMember } from '../../src/dfsm/transport';
import { ClusterConfigTracker } from '../../src/corosync/cmap';
import { CpgGroup } from '../../src/corosync/cpg-group';
import { Logger } from '../../src/corosync/log';
import { QuorumTracker } from '../../src/corosync/quorum';

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

process.on('uncaughtException', (err) => {
  emit({ ev: 'fatal', error: String(err.stack ?? err) });
  process.exit(99);
});
process.on('unhandledRejection', (err) => {
  emit({ ev: 'fatal', error: String(err) });
  process.exit(98);
});

const log: Logger = (level, message) => emit({ ev: 'log', level, message });

/** Message i of a burst: u32 magic, u32 index, then `size` pattern bytes derived from i. */
function burstMessage(runId: number, i: number, size: number): Buffer {
  const data = Buffer.alloc(8 + size);
  data.writeUInt32LE(runId, 0);
  data.writeUInt32LE(i, 4);
  for (let k = 0; k < size; k++) data[8 + k] = (i * 31 + k * 7) & 0xff;
  return data;
}

let self: GroupMember | null = null;
/** What a delivery of one of our own messages resolves, by "runId:index". */
const waiting = new Map<string, (data: Buffer) => void>();
let delivered = 0;
let group: CpgGroup | null = null;
let quorum: QuorumTracker | null = null;
let cmap: ClusterConfigTracker | null = null;
let runCounter = 0;

const handler = {
  joined(member: GroupMember) {
    self = member;
    emit({ ev: 'joined', self: member });
  },
  confchg(members: GroupMember[], left: GroupMember[], joined: GroupMember[]) {
    emit({ ev: 'confchg', members, left, joined });
  },
  deliver(from: GroupMember, data: Buffer) {
    delivered++;
    // A handler bug, injected: the group must leave and come back rather than hang.
    if (data.toString() === 'throw') throw new Error('injected handler failure');
    // A multicast from inside the delivery callback (the DFSM answers SYNC_START this way).
    if (data.toString() === 'ping') {
      void group!.mcast(Buffer.from('pong')).then((rc) => emit({ ev: 'pong-sent', rc }));
    }
    if (data.toString() === 'pong') emit({ ev: 'pong-delivered', from });
    if (self === null || from.nodeid !== self.nodeid || from.pid !== self.pid || data.length < 8) return;
    const key = `${data.readUInt32LE(0)}:${data.readUInt32LE(4)}`;
    const wake = waiting.get(key);
    if (wake) {
      waiting.delete(key);
      wake(data);
    }
  },
  disconnected(reason: string) {
    emit({ ev: 'disconnected', reason });
  },
};

function awaitOwn(runId: number, i: number): Promise<Buffer> {
  return new Promise((resolve) => waiting.set(`${runId}:${i}`, resolve));
}

/** Sends `count` messages without waiting in between; checks order and bytes of what comes back. */
async function burst(count: number, size: number): Promise<Record<string, unknown>> {
  const runId = ++runCounter;
  const order: number[] = [];
  let identical = 0;
  const sends: Promise<number>[] = [];
  const arrivals: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const message = burstMessage(runId, i, size);
    arrivals.push(awaitOwn(runId, i).then((data) => {
      order.push(i);
      if (data.equals(message)) identical++;
    }));
    sends.push(group!.mcast(message));
  }
  const results = await Promise.all(sends);
  const sentOk = results.filter((r) => r === 0).length;
  if (sentOk === count) await Promise.all(arrivals);
  const inOrder = order.every((value, index) => value === index);
  return { sentOk, results: [...new Set(results)], received: order.length, inOrder, identical };
}

/** Round trips one message at a time: mcast, then wait for its own delivery. */
async function rtt(count: number): Promise<Record<string, unknown>> {
  const runId = ++runCounter;
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const message = burstMessage(runId, i, 64);
    const back = awaitOwn(runId, i);
    const t0 = process.hrtime.bigint();
    const rc = await group!.mcast(message);
    if (rc !== 0) return { error: rc };
    await back;
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const pick = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { count, p50: pick(0.5), p99: pick(0.99), max: samples[samples.length - 1] };
}

/** Keeps up to 64 sends in flight until flood-stop; then reports how every one of them ended. */
let flooding = false;
let floodPending: Promise<number>[] = [];
const floodResults = new Map<number, number>();
let floodResolved = 0;
function floodStart(): void {
  flooding = true;
  const runId = ++runCounter;
  let i = 0;
  let inFlight = 0;
  const pump = () => {
    while (flooding && inFlight < 64) {
      inFlight++;
      const p = group!.mcast(burstMessage(runId, i++, 200)).then((rc) => {
        inFlight--;
        floodResolved++;
        floodResults.set(rc, (floodResults.get(rc) ?? 0) + 1);
        return rc;
      });
      floodPending.push(p);
    }
    if (flooding) setTimeout(pump, 1);
  };
  pump();
}

async function floodStop(): Promise<Record<string, unknown>> {
  flooding = false;
  const all = floodPending;
  floodPending = [];
  // Every send must settle; a watchdog reports the ones that hang instead of hanging the test.
  const settled = await Promise.race([
    Promise.all(all).then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 45_000).unref()), // a hang detector: generous on a busy machine
  ]);
  return { started: all.length, resolved: floodResolved, settled, results: Object.fromEntries(floodResults) };
}

async function handle(command: Record<string, unknown>): Promise<void> {
  switch (command.cmd) {
    case 'start': {
      const reconnectDelayMs = (command.reconnectDelayMs as number | undefined) ?? 5000;
      quorum = new QuorumTracker({ log, reconnectDelayMs });
      quorum.onChange((quorate) => emit({ ev: 'quorum', quorate }));
      cmap = new ClusterConfigTracker({ log, reconnectDelayMs });
      cmap.onChange((info) => emit({ ev: 'cmap', info }));
      group = new CpgGroup(command.group as string, handler, { log, reconnectDelayMs });
      quorum.start();
      cmap.start();
      group.start();
      emit({ ev: 'started', quorate: quorum.quorate(), info: cmap.info });
      return;
    }
    case 'burst':
      emit({ ev: 'burst-done', ...(await burst(command.count as number, command.size as number)) });
      return;
    case 'rtt':
      emit({ ev: 'rtt-done', ...(await rtt(command.count as number)) });
      return;
    case 'flood-start':
      floodStart();
      emit({ ev: 'flood-started' });
      return;
    case 'flood-stop':
      emit({ ev: 'flood-done', ...(await floodStop()) });
      return;
    case 'mcast-one':
      emit({ ev: 'mcast-one-done', rc: await group!.mcast(Buffer.from((command.text as string | undefined) ?? 'one')) });
      return;
    case 'leave':
      group!.leave();
      emit({ ev: 'leave-done' });
      return;
    case 'stop':
      group?.stop();
      quorum?.stop();
      cmap?.stop();
      rl.close();
      process.stdin.destroy();
      emit({ ev: 'stopped', delivered });
      // Nothing may be left running: the process has to exit on its own now.
      return;
    default:
      emit({ ev: 'fatal', error: `unknown command ${JSON.stringify(command)}` });
  }
}

const rl = readline.createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  const command = JSON.parse(line) as Record<string, unknown>;
  // Commands run one after another (flood-start returns at once and floods in the background).
  chain = chain.then(() => handle(command));
});
emit({ ev: 'ready', pid: process.pid });
