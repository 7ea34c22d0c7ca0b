/**
 * Command line of `pmxcfs-ts` (spec §1): -f/--foreground, -l/--local, -d/--debug as the reference,
 * plus --mount, --db, --nodename and --corosync-conf for tests and labs. An extra positional argument is an error
 * ("too many arguments", exit status 255 like the reference's exit(-1)).
 */
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';

export const DEFAULT_MOUNT = '/etc/pve';
export const DEFAULT_DB = '/var/lib/pve-cluster/config.db';

export interface DaemonOptions {
  foreground: boolean;
  local: boolean;
  debug: boolean;
  mount: string;
  db: string;
  nodename: string;
  /** Host corosync.conf (spec §9); absent = /etc/corosync/corosync.conf. For tests and labs. */
  corosyncConf?: string;
  /** Internal: fd of the pipe to the parent that waits for start-up (daemon mode). */
  readyFd?: number;
  /** Operator control socket (default: see daemon/control-protocol controlSocketPath). */
  controlSocket?: string;
  /** Base directory of the RRD files (default /var/lib/rrdcached/db). For tests and labs. */
  rrdDir?: string;
  /** rrdcached's unix socket (default /var/run/rrdcached.sock); 'none' = always write directly. */
  rrdcachedSocket?: string;
}

export type ParseResult =
  | { kind: 'run'; options: DaemonOptions }
  | { kind: 'help'; text: string }
  | { kind: 'error'; message: string };

export const USAGE = `Usage:
  pmxcfs-ts [OPTION...] - Proxmox Cluster File System (TypeScript)

Help Options:
  -h, --help            Show help options

Application Options:
  -d, --debug           Turn on debug messages
  -f, --foreground      Do not daemonize server
  -l, --local           Force local mode (ignore corosync.conf, force quorum)
  --mount=DIR           Mount point (default ${DEFAULT_MOUNT})
  --db=FILE             Database file (default ${DEFAULT_DB})
  --nodename=NAME       Node name (default: host name up to the first dot)
  --corosync-conf=FILE  Host corosync config kept in sync with the cluster's
                        (default /etc/corosync/corosync.conf)
  --control-socket=PATH Socket of the status command (default
                        /run/pve-cluster/pmxcfs-ts.sock, or beside a non-default --db)
  --rrd-dir=DIR         RRD files (default /var/lib/rrdcached/db)
  --rrdcached-socket=PATH  rrdcached socket, or 'none' to write RRD files
                        directly (default /var/run/rrdcached.sock)

Commands:
  pmxcfs-ts status [--json] ...  Health of the local daemon (see pmxcfs-ts status --help)
`;

/** uname nodename up to the first dot. */
export function defaultNodename(): string {
  return hostname().split('.')[0] ?? hostname();
}

export function parseArgs(argv: readonly string[]): ParseResult {
  const o: DaemonOptions = {
    foreground: false,
    local: false,
    debug: false,
    mount: DEFAULT_MOUNT,
    db: DEFAULT_DB,
    nodename: defaultNodename(),
  };
  const valued = new Map<string, (v: string) => void>([
    ['--mount', (v) => (o.mount = v)],
    ['--db', (v) => (o.db = v)],
    ['--nodename', (v) => (o.nodename = v)],
    ['--corosync-conf', (v) => (o.corosyncConf = v)],
    ['--ready-fd', (v) => (o.readyFd = Number.parseInt(v, 10))],
    ['--control-socket', (v) => (o.controlSocket = v)],
    ['--rrd-dir', (v) => (o.rrdDir = v)],
    ['--rrdcached-socket', (v) => (o.rrdcachedSocket = v)],
  ]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help' || arg === '-?') return { kind: 'help', text: USAGE };
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg : arg.slice(0, eq);
      const set = valued.get(name);
      if (set !== undefined) {
        const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
        if (value === undefined || value === '') return { kind: 'error', message: `Missing argument for ${name}` };
        set(value);
        continue;
      }
      if (eq < 0 && name === '--foreground') o.foreground = true;
      else if (eq < 0 && name === '--local') o.local = true;
      else if (eq < 0 && name === '--debug') o.debug = true;
      else return { kind: 'error', message: `Unknown option ${arg}` };
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (const flag of arg.slice(1)) {
        if (flag === 'f') o.foreground = true;
        else if (flag === 'l') o.local = true;
        else if (flag === 'd') o.debug = true;
        else if (flag === 'h') return { kind: 'help', text: USAGE };
        else return { kind: 'error', message: `Unknown option -${flag}` };
      }
      continue;
    }
    return { kind: 'error', message: 'too many arguments' };
  }
  if (o.nodename === '' || o.nodename.includes('/')) return { kind: 'error', message: `invalid node name '${o.nodename}'` };
  if (o.readyFd !== undefined && !(o.readyFd > 2)) return { kind: 'error', message: 'invalid --ready-fd' };
  return { kind: 'run', options: o };
}

/** The value of --rrdcached-socket that means "no rrdcached": a keyword, not a path. */
export const NO_RRDCACHED = 'none';

/**
 * The options with every path made absolute against the directory `cwd()` returns (asked only when a
 * path is relative: process.cwd() throws when that directory was removed). The daemonized process
 * runs in `/`, so relative paths must be resolved in the caller's directory before it starts.
 */
export function withAbsolutePaths(o: DaemonOptions, cwd: () => string): DaemonOptions {
  const abs = (p: string): string => (isAbsolute(p) ? resolve(p) : resolve(cwd(), p));
  const r: DaemonOptions = { ...o, mount: abs(o.mount), db: abs(o.db) };
  if (o.corosyncConf !== undefined) r.corosyncConf = abs(o.corosyncConf);
  if (o.controlSocket !== undefined) r.controlSocket = abs(o.controlSocket);
  if (o.rrdDir !== undefined) r.rrdDir = abs(o.rrdDir);
  if (o.rrdcachedSocket !== undefined && o.rrdcachedSocket !== NO_RRDCACHED) r.rrdcachedSocket = abs(o.rrdcachedSocket);
  return r;
}

/** A command line that parseArgs turns back into `o` (without the internal --ready-fd). */
export function toArgv(o: DaemonOptions): string[] {
  const argv: string[] = [];
  if (o.foreground) argv.push('-f');
  if (o.local) argv.push('-l');
  if (o.debug) argv.push('-d');
  argv.push(`--mount=${o.mount}`, `--db=${o.db}`, `--nodename=${o.nodename}`);
  if (o.corosyncConf !== undefined) argv.push(`--corosync-conf=${o.corosyncConf}`);
  if (o.controlSocket !== undefined) argv.push(`--control-socket=${o.controlSocket}`);
  if (o.rrdDir !== undefined) argv.push(`--rrd-dir=${o.rrdDir}`);
  if (o.rrdcachedSocket !== undefined) argv.push(`--rrdcached-socket=${o.rrdcachedSocket}`);
  return argv;
}
