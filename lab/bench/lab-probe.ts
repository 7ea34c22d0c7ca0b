/**
 * The part of `npm run bench -- --lab` that runs INSIDE a lab container: its compiled text is piped
 * to `docker exec -i <node> node - <command> <json>` (the image has node but not dist/lab), so it
 * imports node built-ins only. It prints one JSON line with the result on stdout. Times are
 * CLOCK_MONOTONIC nanoseconds (process.hrtime.bigint()), which every container shares with the
 * host (one kernel, no time namespaces): a write timed on node1 and its sighting on node2 compare.
 */
import * as fs from 'fs';
import * as fsp from 'fs/promises';
import * as net from 'net';
import * as path from 'path';

type Args = Record<string, unknown>;

const now = (): bigint => process.hrtime.bigint();
const ms = (a: bigint, b: bigint): number => Number(b - a) / 1e6;
const sleep = (t: number): Promise<void> => new Promise((r) => setTimeout(r, t));

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * The loop's figures; clientCpuUsPerOp is this process's own CPU (user + system, all threads, the
 * thread pool's included) per operation: the client's share of each operation, which no file system
 * can remove (it still depends on how often the client sleeps waiting for replies).
 */
function summary(latencies: number[], seconds: number, cpu: NodeJS.CpuUsage): Record<string, number> {
  const s = [...latencies].sort((a, b) => a - b);
  const clientCpuUsPerOp = s.length > 0 ? (cpu.user + cpu.system) / s.length : NaN;
  return { ops: s.length, seconds, perSecond: s.length / seconds, p50Ms: pct(s, 50), p99Ms: pct(s, 99), clientCpuUsPerOp };
}

/** Back-to-back operations for `seconds` (after a short warm-up); latency of each. */
function timedLoop(seconds: number, op: (i: number) => void): Record<string, number> {
  for (let i = 0; i < 20; i++) op(i);
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = now();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let t = start;
  while (t < end) {
    const b = t;
    op(lat.length);
    t = now();
    lat.push(ms(b, t));
  }
  return summary(lat, ms(start, t) / 1000, process.cpuUsage(cpu0));
}

/** The same loop for the thread-pool client: one fs/promises operation in flight at a time. */
async function timedLoopAsync(seconds: number, op: (i: number) => Promise<void>): Promise<Record<string, number>> {
  for (let i = 0; i < 20; i++) await op(i);
  const lat: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = now();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let t = start;
  while (t < end) {
    const b = t;
    await op(lat.length);
    t = now();
    lat.push(ms(b, t));
  }
  return summary(lat, ms(start, t) / 1000, process.cpuUsage(cpu0));
}

/** A 1 KiB payload that names its sequence number (fixed length, so sizes never tell). */
function payload(seq: number, size = 1024): Buffer {
  const head = `seq ${seq}\n`;
  return Buffer.from(head + 'x'.repeat(Math.max(0, size - head.length - 1)) + '\n');
}

function atomicWrite(file: string, data: Buffer): void {
  fs.writeFileSync(`${file}.tmp`, data);
  fs.renameSync(`${file}.tmp`, file);
}

async function atomicWriteAsync(file: string, data: Buffer): Promise<void> {
  await fsp.writeFile(`${file}.tmp`, data);
  await fsp.rename(`${file}.tmp`, file);
}

function controlStatus(socket: string): Promise<{ version: number; quorate: boolean }> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(socket);
    let buf = '';
    const timer = setTimeout(() => c.destroy(new Error('control socket timeout')), 5000);
    c.on('connect', () => c.write('{"cmd":"status","logLines":0}\n'));
    c.on('data', (d) => (buf += d.toString()));
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on('close', () => {
      clearTimeout(timer);
      try {
        const j = JSON.parse(buf.split('\n')[0]!) as { ok: boolean; status?: { version: number; quorate: boolean }; error?: string };
        if (!j.ok || !j.status) return reject(new Error(j.error ?? 'no status'));
        resolve({ version: j.status.version, quorate: j.status.quorate });
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

const commands: Record<string, (a: Args) => Promise<unknown> | unknown> = {
  /** Replicated atomic config writes: tmp + rename of a 1 KiB file, back to back. */
  atomic(a) {
    const dir = String(a.dir);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'atomic.cfg');
    if (a.client === 'async') return timedLoopAsync(Number(a.seconds), (i) => atomicWriteAsync(file, payload(i)));
    return timedLoop(Number(a.seconds), (i) => atomicWrite(file, payload(i)));
  },
  /** Cluster lock pairs: mkdir + rmdir of one priv/lock directory. */
  lock(a) {
    const lock = path.join(String(a.mount), 'priv/lock', `bench-lab-${process.pid}`);
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    if (a.client === 'async') {
      return timedLoopAsync(Number(a.seconds), async () => {
        await fsp.mkdir(lock);
        await fsp.rmdir(lock);
      });
    }
    return timedLoop(Number(a.seconds), () => {
      fs.mkdirSync(lock);
      fs.rmdirSync(lock);
    });
  },
  /** 500 KiB written in 512-byte write() calls to one open file, then closed. */
  chunked(a) {
    const file = path.join(String(a.dir), 'chunked.bin');
    fs.mkdirSync(String(a.dir), { recursive: true });
    const chunk = Buffer.alloc(512, 0x61);
    const start = now();
    const fd = fs.openSync(file, 'w');
    for (let off = 0; off < 500 * 1024; off += 512) fs.writeSync(fd, chunk, 0, 512, off);
    fs.closeSync(fd);
    const seconds = ms(start, now()) / 1000;
    fs.unlinkSync(file);
    return { seconds };
  },
  /** Writer side of the visibility measurement: `count` atomic writes `gapMs` apart, each timed. */
  async writeSeq(a) {
    const file = String(a.file);
    const times: string[] = [];
    for (let i = 0; i < Number(a.count); i++) {
      times.push(now().toString());
      atomicWrite(file, payload(i));
      await sleep(Number(a.gapMs));
    }
    return { times };
  },
  /** Reader side: poll the file every ~1 ms (bounded) and note when each sequence number shows. */
  async watch(a) {
    const file = String(a.file);
    const count = Number(a.count);
    const seen: (string | null)[] = new Array<string | null>(count).fill(null);
    const deadline = now() + BigInt(Number(a.timeoutMs) * 1e6);
    process.stdout.write('ready\n');
    while (seen[count - 1] === null && now() < deadline) {
      try {
        const head = fs.readFileSync(file).subarray(0, 16).toString();
        const m = /^seq (\d+)\n/.exec(head);
        if (m) {
          const i = Number(m[1]);
          if (i < count && seen[i] === null) seen[i] = now().toString();
        }
      } catch {
        // not there yet, or renamed over while opening
      }
      await sleep(1);
    }
    return { seen };
  },
  /** Write n small files (the changes a partitioned node misses). */
  fill(a) {
    const dir = String(a.dir);
    fs.mkdirSync(dir, { recursive: true });
    const start = now();
    for (let i = 0; i < Number(a.n); i++) fs.writeFileSync(path.join(dir, `f${i}.cfg`), `missed change ${i}\n`);
    return { seconds: ms(start, now()) / 1000 };
  },
  async version(a) {
    return controlStatus(String(a.socket));
  },
  /** Poll the daemon until its database version reaches `target`; when it was quorate, when equal. */
  async waitVersion(a) {
    const target = Number(a.target);
    const deadline = now() + BigInt(Number(a.timeoutMs) * 1e6);
    let quorateAt: string | null = null;
    let last = -1;
    while (now() < deadline) {
      try {
        const s = await controlStatus(String(a.socket));
        last = s.version;
        if (s.quorate && quorateAt === null) quorateAt = now().toString();
        if (s.version >= target) return { reachedAt: now().toString(), quorateAt, version: s.version };
      } catch {
        // daemon busy with the sync: ask again
      }
      await sleep(5);
    }
    return { reachedAt: null, quorateAt, version: last };
  },
};

async function main(): Promise<void> {
  const [cmd, json] = process.argv.slice(2);
  const fn = cmd !== undefined ? commands[cmd] : undefined;
  if (!fn) throw new Error(`unknown probe command ${cmd ?? '(none)'}`);
  const result = await fn(JSON.parse(json ?? '{}') as Args);
  process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stdout.write(`${JSON.stringify({ ok: false, error: e.message })}\n`);
    process.exit(1);
  },
);
