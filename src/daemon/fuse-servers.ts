/**
 * Which processes serve a FUSE mount: those holding a /dev/fuse fd of its connection
 * (/proc/PID/fdinfo's `fuse_connection`, equal to the mount's device number). Only procfs is read,
 * never the mount. Processes of other pid namespaces are not visible, so "none found" is not proof
 * that nobody serves the mount.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs, withAbsolutePaths, type DaemonOptions } from './options';

export interface FuseServer {
  pid: number;
  /** Command line (empty if the process went away while it was read). */
  argv: string[];
  /** Working directory, to resolve relative paths of its command line. */
  cwd: string | undefined;
}

function readArgv(proc: string, pid: number): string[] {
  try {
    return readFileSync(`${proc}/${pid}/cmdline`, 'utf8').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
  } catch {
    return [];
  }
}

function readCwd(proc: string, pid: number): string | undefined {
  try {
    return readlinkSync(`${proc}/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** The fuse_connection numbers of the /dev/fuse fds a process holds (gone process: none). */
function connectionsOf(proc: string, pid: number): number[] {
  let fds: string[];
  try {
    fds = readdirSync(`${proc}/${pid}/fd`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const fd of fds) {
    try {
      if (readlinkSync(`${proc}/${pid}/fd/${fd}`) !== '/dev/fuse') continue;
      const m = /^fuse_connection:\s*(\d+)/m.exec(readFileSync(`${proc}/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m !== null) out.push(Number(m[1]));
    } catch {
      // fd closed or process gone meanwhile
    }
  }
  return out;
}

/** The processes (other than this one) holding a /dev/fuse fd of FUSE connection `connection`. */
export function findFuseServers(connection: number, proc = '/proc'): FuseServer[] {
  let entries: string[];
  try {
    entries = readdirSync(proc);
  } catch {
    return [];
  }
  const out: FuseServer[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid || !connectionsOf(proc, pid).includes(connection)) continue;
    out.push({ pid, argv: readArgv(proc, pid), cwd: readCwd(proc, pid) });
  }
  return out;
}

/** "pid 123 (node /usr/lib/pmxcfs-ts/dist/src/main.js -f)", the command cut at 200 characters. */
export function describeServer(s: FuseServer): string {
  const cmd = s.argv.join(' ');
  return `pid ${s.pid} (${cmd === '' ? 'command unknown' : cmd.length > 200 ? `${cmd.slice(0, 197)}...` : cmd})`;
}

/**
 * The options of a pmxcfs-ts daemon from its command line (paths made absolute against its working
 * directory), or undefined when the command is not one.
 */
export function daemonOptionsOf(s: FuseServer): DaemonOptions | undefined {
  // node [node options] .../dist/src/main.js ARGS, or a wrapper's exec of the same (a daemon started
  // without its heap options adds one, heap-options.ts); the reference is `pmxcfs ARGS`.
  const script = s.argv.findIndex((a, i) => i < 8 && (/(^|\/)main\.js$/.test(a) || basename(a).startsWith('pmxcfs')));
  if (script < 0) return undefined;
  const parsed = parseArgs(s.argv.slice(script + 1));
  if (parsed.kind !== 'run') return undefined;
  return withAbsolutePaths(parsed.options, () => s.cwd ?? '/');
}
