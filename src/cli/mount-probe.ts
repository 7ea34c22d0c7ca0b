/**
 * Is the file system mounted, and does it answer? "Mounted" comes from /proc/self/mountinfo (never
 * from the mount itself); "responsive" from a `stat` of <mount>/.version run in a child process that
 * is SIGKILLed after a timeout, so a hung FUSE mount cannot hang the status command.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { topMountAt } from '../daemon/mountinfo';

export interface MountProbe {
  mounted: boolean;
  /** File system type from mountinfo (e.g. fuse), when mounted. */
  fstype?: string;
  /** null when not mounted (not probed). */
  responsive: boolean | null;
  /** Why it is not responsive (timeout, error text). */
  detail?: string;
  /** How long the probe took (ms). */
  probeMs?: number;
}

/** The fstype mounted exactly at `dir` (the visible one), or undefined. */
export function findMount(mountinfo: string, dir: string): string | undefined {
  return topMountAt(mountinfo, dir)?.fstype;
}

export async function probeMount(dir: string, timeoutMs: number): Promise<MountProbe> {
  let info = '';
  try {
    info = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    info = '';
  }
  const fstype = findMount(info, dir);
  if (fstype === undefined) return { mounted: false, responsive: null };
  const started = Date.now();
  const r = await timedStat(join(resolve(dir), '.version'), timeoutMs);
  return { mounted: true, fstype, responsive: r.ok, ...(r.ok ? {} : { detail: r.detail }), probeMs: Date.now() - started };
}

function timedStat(file: string, timeoutMs: number): Promise<{ ok: true } | { ok: false; detail: string }> {
  return new Promise((res) => {
    let done = false;
    let stderr = '';
    const child = spawn('stat', ['--format=%s', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    const finish = (r: { ok: true } | { ok: false; detail: string }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      res(r);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ ok: false, detail: `no answer from ${file} within ${timeoutMs} ms (hung mount?)` });
    }, timeoutMs);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => (stderr += c));
    child.on('error', (e) => finish({ ok: false, detail: `cannot run stat: ${e.message}` }));
    child.on('exit', (code) =>
      finish(code === 0 ? { ok: true } : { ok: false, detail: stderr.trim() || `stat ${file} failed (status ${code})` }),
    );
  });
}
