/**
 * Writes RRD samples to disk (spec §6 "write RRD file locally", §11.2): a missing file is created
 * through librrd (its directory 0750), then the sample goes to rrdcached when its socket answers,
 * else straight into the file through librrd. Every node writes every node's samples.
 *
 * Robust by construction: `write` never throws. librrd missing → one log line and writing is off;
 * a malformed sample or an unsafe file name → a rate-limited log line; an update not newer than the
 * file's last one (replays, clock steps) → debug only; other librrd/rrdcached errors → rate-limited.
 */
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RrdTarget } from '../kvstore/rrd-key';
import type { LogPriority } from '../daemon/logger';
import { loadLibrrd, LIBRRD_NAME, type RrdLibrary } from './librrd';
import { RateLimitedLog } from './rate-limited-log';
import { RrdcachedClient } from './rrdcached-client';
import { checkRrdUpdate, isSafeRrdFile, printable, rrdCreateParams } from './rrd-layout';

export const DEFAULT_RRD_DIR = '/var/lib/rrdcached/db';
export const DEFAULT_RRDCACHED_SOCKET = '/var/run/rrdcached.sock';

/** Where the daemon hands `rrd-update` effects (local and cluster mode). */
export interface RrdSink {
  write(target: RrdTarget): void;
  close(): void;
}

export interface RrdWriterOptions {
  /** Base directory (default /var/lib/rrdcached/db). */
  dir?: string;
  /** rrdcached's unix socket; null = always write directly (default /var/run/rrdcached.sock). */
  rrdcachedSocket?: string | null;
  log: (prio: LogPriority, msg: string) => void;
  /** Loads librrd (tests inject a missing or fake library). */
  loadLibrary?: () => RrdLibrary;
  nowMs?: () => number;
  /** One log line per problem and file at most this often (default 60 s). */
  logIntervalMs?: number;
}

/** librrd's and rrdcached's text for an update that is not newer than the file's last one. */
export function isStaleUpdateError(error: string): boolean {
  return error.includes('illegal attempt to update using time');
}

export class RrdWriter implements RrdSink {
  private readonly lib: RrdLibrary | null;
  private readonly dir: string;
  private readonly cached: RrdcachedClient | null;
  private readonly limited: RateLimitedLog;
  /** Real path of `dir` once it exists: rrdcached -B compares against its resolved base dir. */
  private realDir: string | null = null;

  constructor(private readonly o: RrdWriterOptions) {
    this.dir = o.dir ?? DEFAULT_RRD_DIR;
    const nowMs = o.nowMs ?? Date.now;
    this.limited = new RateLimitedLog(o.logIntervalMs ?? 60_000, nowMs);
    let lib: RrdLibrary | null = null;
    try {
      lib = (o.loadLibrary ?? loadLibrrd)();
    } catch (e) {
      o.log('warning', `RRD files are not written: cannot load ${LIBRRD_NAME} (${firstLine(e)}); install librrd8`);
    }
    this.lib = lib;
    const socket = o.rrdcachedSocket === undefined ? DEFAULT_RRDCACHED_SOCKET : o.rrdcachedSocket;
    this.cached =
      lib === null || socket === null
        ? null
        : new RrdcachedClient({
            socket,
            nowMs,
            onState: (up, detail) => o.log(up ? 'info' : 'notice', up ? `rrdcached connected (${detail})` : `rrdcached connection lost: ${detail}`),
          });
  }

  /** False when librrd could not be loaded (nothing is ever written). */
  get enabled(): boolean {
    return this.lib !== null;
  }

  write(target: RrdTarget): void {
    if (this.lib === null) return;
    try {
      this.writeSample(this.lib, target);
    } catch (e) {
      this.warn(`internal:${target.file}`, `RRD update error ${printable(target.file)}: ${firstLine(e)}`);
    }
  }

  /** Resolves once rrdcached has answered every update sent so far (tests). */
  idle(): Promise<void> {
    return this.cached?.idle() ?? Promise.resolve();
  }

  close(): void {
    this.cached?.close();
  }

  private writeSample(lib: RrdLibrary, target: RrdTarget): void {
    if (!isSafeRrdFile(target.file)) {
      this.warn('unsafe-name', `RRD update error: refusing file name '${printable(target.file)}'`);
      return;
    }
    const check = checkRrdUpdate(target.kind, target.update);
    if (!check.ok) {
      this.warn(`bad:${target.file}`, `RRD update error ${target.file}: bad sample (${check.error})`);
      return;
    }
    const path = join(this.dir, target.file);
    if (!existsSync(path)) {
      try {
        mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
      } catch (e) {
        this.warn(`mkdir:${dirname(path)}`, `RRD create error ${path}: ${firstLine(e)}`);
        return;
      }
      const p = rrdCreateParams(target.kind, check.time);
      const err = lib.create(path, p.step, p.start, p.args);
      if (err !== null) {
        this.warn(`create:${target.file}`, `RRD create error ${path}: ${err}`);
        return;
      }
    }
    if (this.cached !== null) {
      const cachedPath = this.cachedPath(target.file);
      if (cachedPath !== null && this.cached.update(cachedPath, target.update, (reply) => this.onCachedReply(lib, path, target, reply))) return;
    }
    this.updateDirect(lib, path, target);
  }

  private onCachedReply(lib: RrdLibrary, path: string, target: RrdTarget, reply: { kind: string; error?: string }): void {
    if (reply.kind === 'ok') return;
    const error = reply.error ?? '';
    if (reply.kind === 'refused' && isStaleUpdateError(error)) {
      this.debug(`stale:${target.file}`, `RRD update of ${path} ignored (not newer than the last one): ${error}`);
      return;
    }
    if (reply.kind === 'refused') this.warn(`rrdc:${target.file}`, `RRDC update error ${path}: ${error}`);
    // As the reference: whatever rrdcached did not take is written directly.
    try {
      this.updateDirect(lib, path, target);
    } catch (e) {
      this.warn(`internal:${target.file}`, `RRD update error ${path}: ${firstLine(e)}`);
    }
  }

  private updateDirect(lib: RrdLibrary, path: string, target: RrdTarget): void {
    const err = lib.update(path, target.update);
    if (err === null) return;
    if (isStaleUpdateError(err)) this.debug(`stale:${target.file}`, `RRD update of ${path} ignored (not newer than the last one): ${err}`);
    else this.warn(`update:${target.file}`, `RRD update error ${path}: ${err}`);
  }

  private cachedPath(file: string): string | null {
    if (this.realDir === null) {
      try {
        this.realDir = realpathSync(this.dir);
      } catch {
        return null;
      }
    }
    return join(this.realDir, file);
  }

  private warn(key: string, msg: string): void {
    const line = this.limited.line(key, msg);
    if (line !== null) this.o.log('warning', line);
  }

  private debug(key: string, msg: string): void {
    const line = this.limited.line(key, msg);
    if (line !== null) this.o.log('debug', line);
  }
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0] ?? text;
}
