/**
 * The file operations the benchmark times. They run in the bench worker process (never in the
 * process that hosts the daemon), exactly one operation in flight, through the client pattern asked
 * for (fs-client.ts: blocking syscalls or Node's thread pool). Setup and teardown are synchronous.
 * Each measurement has an untimed setup/afterRun/teardown that creates and removes its fixtures;
 * everything created is removed again, and directories only if this code created them.
 */
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import type { FsClient } from './fs-client';
import { percentile, ratePerSecond } from './stats';

export interface WorkerContext {
  mount: string;
  /** Absolute scratch directory inside the mount, made by the worker. */
  workdir: string;
  node: string;
  vmidBase: number;
  /** Directories this worker created outside workdir, in creation order (removed in reverse). */
  createdDirs: string[];
}

export interface RunLimits {
  /** Time bound of a rate run. */
  seconds: number;
  /** Count bound of a rate run. */
  maxOps: number;
}

/** Time bound of the fixed-count measurements (1,000 configs, 1,000 chunks, ...). */
export const FIXED_COUNT_BOUND_SECONDS = 120;

export interface Measurement {
  name: string;
  setup?(ctx: WorkerContext): void;
  /** Returns figures by key (see figures.ts), or raw numbers the main process turns into figures. */
  run(ctx: WorkerContext, limits: RunLimits, client: FsClient): Promise<Record<string, number>>;
  /** Measured with the synchronous client only (write amplification is about the daemon). */
  syncOnly?: boolean;
  afterRun?(ctx: WorkerContext): void;
  teardown?(ctx: WorkerContext): void;
}

interface LoopResult {
  ops: number;
  seconds: number;
  latenciesMs: number[];
}

/** An operation of either client pattern; a synchronous one is never awaited (no extra tick). */
type Op = (i: number) => unknown;

/** Runs op back to back until the time or count bound; a short untimed warm-up first. */
async function timedLoop(limits: RunLimits, op: Op): Promise<LoopResult> {
  const warmUpEnd = performance.now() + Math.min(200, limits.seconds * 200);
  for (let i = 0; i < 200 && performance.now() < warmUpEnd; i++) {
    const p = op(i);
    if (p instanceof Promise) await p;
  }
  const latenciesMs: number[] = [];
  const start = performance.now();
  const deadline = start + limits.seconds * 1000;
  let now = start;
  while (latenciesMs.length < limits.maxOps && now < deadline) {
    const before = now;
    const p = op(latenciesMs.length);
    if (p instanceof Promise) await p;
    now = performance.now();
    latenciesMs.push(now - before);
  }
  return { ops: latenciesMs.length, seconds: (now - start) / 1000, latenciesMs };
}

/** Runs op exactly count times and returns the seconds taken; fails beyond the time bound. */
async function fixedCount(count: number, op: Op): Promise<number> {
  const start = performance.now();
  const deadline = start + FIXED_COUNT_BOUND_SECONDS * 1000;
  for (let i = 0; i < count; i++) {
    const p = op(i);
    if (p instanceof Promise) await p;
    if (performance.now() > deadline && i + 1 < count) {
      throw new Error(`time bound of ${FIXED_COUNT_BOUND_SECONDS} s exceeded after ${i + 1} of ${count}`);
    }
  }
  return (performance.now() - start) / 1000;
}

/** mkdir -p of a path relative to the mount, remembering which directories it created. */
export function ensureDir(ctx: WorkerContext, relative: string): string {
  let current = ctx.mount;
  for (const part of relative.split('/').filter((p) => p !== '')) {
    current = path.join(current, part);
    if (fs.statSync(current, { throwIfNoEntry: false }) === undefined) {
      fs.mkdirSync(current);
      ctx.createdDirs.push(current);
    }
  }
  return current;
}

function mustNotExist(file: string): void {
  if (fs.statSync(file, { throwIfNoEntry: false }) !== undefined) {
    throw new Error(`${file} exists already; refusing to touch it`);
  }
}

function removeIfPresent(file: string): void {
  fs.rmSync(file, { force: true });
}

/** Creates (or truncates) a file and writes data with one write call. */
function writeWhole(file: string, data: Buffer): void {
  const fd = fs.openSync(file, 'w');
  try {
    const written = fs.writeSync(fd, data, 0, data.length, 0);
    if (written !== data.length) throw new Error(`short write to ${file}: ${written} of ${data.length}`);
  } finally {
    fs.closeSync(fd);
  }
}

const KiB = 1024;
const MiB = 1024 * KiB;

export function guestConfig(vmid: number): Buffer {
  const hex = vmid.toString(16).padStart(8, '0');
  return Buffer.from(
    'boot: order=scsi0;net0\ncores: 2\ncpu: x86-64-v2-AES\nmemory: 2048\n' +
      `name: bench-${vmid}\nnet0: virtio=BC:24:11:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)},bridge=vmbr0,firewall=1\n` +
      'numa: 0\nostype: l26\n' +
      `scsi0: local-lvm:vm-${vmid}-disk-0,iothread=1,size=32G\nscsihw: virtio-scsi-single\n` +
      `smbios1: uuid=${hex}-0000-4000-8000-00000000${hex.slice(0, 4)}\nsockets: 1\n`,
  );
}

/** VMIDs listed in the mount's .vmlist, if it has one (a real pmxcfs); empty otherwise. */
function registeredVmids(mount: string): Set<number> {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(mount, '.vmlist'), 'utf8')) as { ids?: Record<string, unknown> };
    return new Set(Object.keys(parsed.ids ?? {}).map(Number));
  } catch {
    return new Set();
  }
}

const GUEST_CONFIGS = 1000;
const CHUNK = 512;
const CHUNKED_FILE = 500 * KiB;
const READDIR_ENTRIES = 1000;

function statMissing(): Measurement {
  return {
    name: 'stat-missing',
    async run(ctx, limits, client) {
      const missing = path.join(ctx.workdir, 'no-such-name');
      const found = (exists: boolean) => {
        if (exists) throw new Error(`${missing} exists`);
      };
      const r = await timedLoop(limits, () => {
        const e = client.exists(missing);
        return typeof e === 'boolean' ? found(e) : e.then(found);
      });
      return { statMissingPerSec: ratePerSecond(r.ops, r.seconds) };
    },
  };
}

function statExisting(): Measurement {
  return {
    name: 'stat-existing',
    setup: (ctx) => writeWhole(path.join(ctx.workdir, 'stat-target'), Buffer.alloc(100, 0x61)),
    async run(ctx, limits, client) {
      const file = path.join(ctx.workdir, 'stat-target');
      const r = await timedLoop(limits, () => client.stat(file));
      return { statExistingPerSec: ratePerSecond(r.ops, r.seconds) };
    },
    teardown: (ctx) => removeIfPresent(path.join(ctx.workdir, 'stat-target')),
  };
}

function read4k(): Measurement {
  return {
    name: 'read-4k',
    setup: (ctx) => writeWhole(path.join(ctx.workdir, 'read-4k'), Buffer.alloc(4 * KiB, 0x62)),
    async run(ctx, limits, client) {
      const file = path.join(ctx.workdir, 'read-4k');
      const check = (data: Buffer) => {
        if (data.length !== 4 * KiB) throw new Error(`read ${data.length} bytes, expected 4096`);
      };
      const r = await timedLoop(limits, () => {
        const data = client.readFile(file);
        return data instanceof Promise ? data.then(check) : check(data);
      });
      return { read4kPerSec: ratePerSecond(r.ops, r.seconds), read4kP50Ms: percentile(r.latenciesMs, 50) };
    },
    teardown: (ctx) => removeIfPresent(path.join(ctx.workdir, 'read-4k')),
  };
}

/** The way PVE writes a config: open tmp O_CREAT|O_WRONLY, write, close, rename over the target. */
function atomicWrite1k(): Measurement {
  const content = Buffer.alloc(KiB, 0x63);
  const target = (ctx: WorkerContext): string => path.join(ctx.workdir, 'atomic.conf');
  return {
    name: 'atomic-write-1k',
    setup: (ctx) => writeWhole(target(ctx), content),
    async run(ctx, limits, client) {
      const file = target(ctx);
      const tmp = `${file}.tmp.${process.pid}`;
      const r = await timedLoop(limits, () => {
        const written = client.createWrite(tmp, content);
        if (written instanceof Promise) return written.then(() => client.rename(tmp, file));
        client.rename(tmp, file);
      });
      return {
        atomicWrite1kPerSec: ratePerSecond(r.ops, r.seconds),
        atomicWrite1kP50Ms: percentile(r.latenciesMs, 50),
        atomicWrite1kP99Ms: percentile(r.latenciesMs, 99),
      };
    },
    teardown(ctx) {
      removeIfPresent(`${target(ctx)}.tmp.${process.pid}`);
      removeIfPresent(target(ctx));
    },
  };
}

function guestConfigs(): Measurement {
  const files = (ctx: WorkerContext): string[] =>
    Array.from({ length: GUEST_CONFIGS }, (_, i) =>
      path.join(ctx.mount, 'nodes', ctx.node, 'qemu-server', `${ctx.vmidBase + i}.conf`));
  return {
    name: 'guest-configs',
    setup(ctx) {
      const taken = registeredVmids(ctx.mount);
      for (let id = ctx.vmidBase; id < ctx.vmidBase + GUEST_CONFIGS; id++) {
        if (taken.has(id)) throw new Error(`VMID ${id} is in use (.vmlist); choose another --vmid-base`);
      }
      ensureDir(ctx, `nodes/${ctx.node}/qemu-server`);
      files(ctx).forEach(mustNotExist);
    },
    async run(ctx, _limits, client) {
      const list = files(ctx);
      const contents = list.map((_, i) => guestConfig(ctx.vmidBase + i));
      return { guestConfigs1000Sec: await fixedCount(GUEST_CONFIGS, (i) => client.writeWhole(list[i]!, contents[i]!)) };
    },
    afterRun: (ctx) => files(ctx).forEach(removeIfPresent),
  };
}

function write500kChunks(): Measurement {
  const file = (ctx: WorkerContext): string => path.join(ctx.workdir, 'chunked-500k');
  return {
    name: 'write-500k-chunks',
    async run(ctx, _limits, client) {
      const chunk = Buffer.alloc(CHUNK, 0x64);
      const start = performance.now();
      await client.writeChunks(file(ctx), chunk, CHUNKED_FILE / CHUNK);
      return { write500kChunksSec: (performance.now() - start) / 1000 };
    },
    afterRun: (ctx) => removeIfPresent(file(ctx)),
  };
}

function write1mOnce(): Measurement {
  const file = (ctx: WorkerContext): string => path.join(ctx.workdir, 'one-write-1m');
  return {
    name: 'write-1m-once',
    async run(ctx, _limits, client) {
      const data = Buffer.alloc(MiB, 0x65);
      const start = performance.now();
      await client.writeWhole(file(ctx), data);
      return { write1mOnceMs: performance.now() - start };
    },
    afterRun: (ctx) => removeIfPresent(file(ctx)),
  };
}

function lockPairs(): Measurement {
  const lock = (ctx: WorkerContext): string => path.join(ctx.mount, 'priv', 'lock', `bench-${process.pid}`);
  return {
    name: 'lock-pairs',
    setup(ctx) {
      ensureDir(ctx, 'priv/lock');
      mustNotExist(lock(ctx));
    },
    async run(ctx, limits, client) {
      const dir = lock(ctx);
      const r = await timedLoop(limits, () => {
        const made = client.mkdir(dir);
        if (made instanceof Promise) return made.then(() => client.rmdir(dir));
        client.rmdir(dir);
      });
      return { lockPairsPerSec: ratePerSecond(r.ops, r.seconds) };
    },
    teardown(ctx) {
      if (fs.statSync(lock(ctx), { throwIfNoEntry: false }) !== undefined) fs.rmdirSync(lock(ctx));
    },
  };
}

function readdir1000(): Measurement {
  const dir = (ctx: WorkerContext): string => path.join(ctx.workdir, 'readdir');
  return {
    name: 'readdir-1000',
    setup(ctx) {
      fs.mkdirSync(dir(ctx));
      for (let i = 0; i < READDIR_ENTRIES; i++) writeWhole(path.join(dir(ctx), `entry-${i}`), Buffer.alloc(0));
    },
    async run(ctx, limits, client) {
      const d = dir(ctx);
      const check = (n: number) => {
        if (n !== READDIR_ENTRIES) throw new Error(`readdir saw ${n} entries, expected ${READDIR_ENTRIES}`);
      };
      const r = await timedLoop(limits, () => {
        const n = client.readdirCount(d);
        return typeof n === 'number' ? check(n) : n.then(check);
      });
      return { readdir1000PerSec: ratePerSecond(r.ops, r.seconds) };
    },
    teardown: (ctx) => fs.rmSync(dir(ctx), { recursive: true, force: true }),
  };
}

/**
 * Writes count new files of size bytes (create, one write call, close); the main process reads
 * the daemon's /proc/<pid>/io around this run. Returns the content bytes written.
 */
function amplification(name: string, size: number, count: number): Measurement {
  const files = (ctx: WorkerContext): string[] =>
    Array.from({ length: count }, (_, i) => path.join(ctx.workdir, 'amp', `${name}-${i}`));
  return {
    name,
    syncOnly: true,
    setup: (ctx) => fs.mkdirSync(path.join(ctx.workdir, 'amp'), { recursive: true }),
    async run(ctx, _limits, client) {
      const data = Buffer.alloc(size, 0x66);
      const list = files(ctx);
      await fixedCount(count, (i) => client.writeWhole(list[i]!, data));
      return { contentBytes: size * count };
    },
    afterRun: (ctx) => files(ctx).forEach(removeIfPresent),
    teardown: (ctx) => fs.rmSync(path.join(ctx.workdir, 'amp'), { recursive: true, force: true }),
  };
}

export const AMPLIFICATION_FIGURE: Record<string, string> = { 'amp-1k': 'amp1k', 'amp-128k': 'amp128k', 'amp-1m': 'amp1m' };

export const MEASUREMENTS: readonly Measurement[] = [
  statMissing(),
  statExisting(),
  read4k(),
  atomicWrite1k(),
  guestConfigs(),
  write500kChunks(),
  write1mOnce(),
  lockPairs(),
  readdir1000(),
  amplification('amp-1k', KiB, 256),
  amplification('amp-128k', 128 * KiB, 16),
  amplification('amp-1m', MiB, 4),
];

/** Removes the scratch directory and, newest first, the directories this worker created. */
export function removeScratch(ctx: WorkerContext): void {
  fs.rmSync(ctx.workdir, { recursive: true, force: true });
  for (const dir of [...ctx.createdDirs].reverse()) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // not empty (someone else put something there) or gone: leave it
    }
  }
  ctx.createdDirs.length = 0;
}
