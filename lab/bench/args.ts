/**
 * Command line of `npm run bench -- [options]`. Pure: argv in, options or an error message out.
 */
import { MEASUREMENT_NAMES } from './measurement-names';
import { CLIENT_PATTERNS, type ClientPattern } from './fs-client';

export interface BenchOptions {
  /** Measure this mount point instead of starting an own local-mode daemon. */
  mount?: string;
  /** pid of the daemon serving --mount (needed for write amplification). */
  pid?: number;
  /** config.db of the daemon serving --mount (for the closing WAL checkpoint). */
  db?: string;
  runs: number;
  /** Upper bound of one run of a rate measurement, in seconds. */
  seconds: number;
  json?: string;
  only?: string[];
  /** Node directory used for guest configs: nodes/<node>/qemu-server. */
  node: string;
  /** First VMID of the 1,000 guest configs. */
  vmidBase: number;
  /** Replicated figures on the Docker lab (issue 4, lab/bench/lab-mode.ts). */
  lab: boolean;
  /** With --lab: corosync at real-time priority in the containers, as on a host (lab/realtime.ts). */
  corosyncRealtime: boolean;
  /** Replicated figures on a namespace cluster of this machine (test/helpers/ns-cluster.ts). */
  ns: boolean;
  /** Client patterns to measure (fs-client.ts); default both. */
  patterns: ClientPattern[];
  /** Daemon entry point for the own local-mode daemon. */
  daemon?: string;
  /** Parent directory of the temporary mount point and database. */
  tmp?: string;
  help: boolean;
}

export type ParseResult = { ok: true; options: BenchOptions } | { ok: false; error: string };

export const USAGE = `usage: npm run bench -- [options]
  --mount DIR      measure this mount point (default: start an own local-mode daemon on a temp mount)
  --pid PID        pid of the daemon behind --mount (enables write amplification)
  --db FILE        its config.db (enables the closing WAL checkpoint in write amplification)
  --runs N         runs per measurement, the median is reported (default 3)
  --seconds S      time bound of one run of a rate measurement (default 1)
  --json FILE      write the raw figures as JSON
  --only a,b,...   run only these measurements: ${MEASUREMENT_NAMES.join(', ')}
  --node NAME      guest configs go to nodes/NAME/qemu-server (default node1)
  --vmid-base N    first VMID of the 1,000 guest configs (default 900000)
  --daemon FILE    daemon entry point (default dist/src/main.js)
  --tmp DIR        where the temp mount and database go (default the OS temp dir; must not be tmpfs
                   for write amplification)
  --client P       client pattern: sync (blocking syscalls), async (Node's thread pool) or both
                   (default both; each is compared only with the reference's figure of the same pattern)
  --lab            replicated figures on a 3-node lab cluster (lab/bench/lab-mode.ts)
  --corosync-rt    with --lab: corosync at SCHED_RR 99 in the containers, as on a host and in the
                   namespace cluster (default: SCHED_OTHER, as a container gets it)
  --ns             the same replicated figures on a 3-node namespace cluster of this machine
                   (real corosync knet, token 1000, token_coefficient 0; needs root)
  -h, --help       this text`;

function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export function parseArgs(argv: readonly string[]): ParseResult {
  const options: BenchOptions = { runs: 3, seconds: 1, node: 'node1', vmidBase: 900_000, lab: false, corosyncRealtime: false, ns: false, patterns: [...CLIENT_PATTERNS], help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string | undefined => argv[++i];
    switch (arg) {
      case '-h':
      case '--help':
        options.help = true;
        break;
      case '--lab':
        options.lab = true;
        break;
      case '--corosync-rt':
        options.corosyncRealtime = true;
        break;
      case '--ns':
        options.ns = true;
        break;
      case '--client': {
        const v = value();
        const list = v === undefined ? [] : v === 'both' ? [...CLIENT_PATTERNS] : v.split(',');
        if (list.length === 0 || list.some((p) => !CLIENT_PATTERNS.includes(p as ClientPattern))) {
          return { ok: false, error: `--client takes sync, async or both` };
        }
        options.patterns = list as ClientPattern[];
        break;
      }
      case '--mount':
      case '--db':
      case '--json':
      case '--node':
      case '--daemon':
      case '--tmp': {
        const v = value();
        if (v === undefined || v === '') return { ok: false, error: `${arg} needs a value` };
        const field = ({ '--mount': 'mount', '--db': 'db', '--json': 'json', '--node': 'node', '--daemon': 'daemon', '--tmp': 'tmp' } as const)[arg];
        options[field] = v;
        break;
      }
      case '--pid':
      case '--runs':
      case '--vmid-base': {
        const n = positiveInt(value());
        if (n === undefined) return { ok: false, error: `${arg} needs a positive integer` };
        if (arg === '--pid') options.pid = n;
        else if (arg === '--runs') options.runs = n;
        else options.vmidBase = n;
        break;
      }
      case '--seconds': {
        const v = Number(value());
        if (!(v > 0 && v <= 600)) return { ok: false, error: '--seconds needs a number in (0, 600]' };
        options.seconds = v;
        break;
      }
      case '--only': {
        const v = value();
        const names = (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
        if (names.length === 0) return { ok: false, error: '--only needs a list of names' };
        const unknown = names.filter((n) => !MEASUREMENT_NAMES.includes(n));
        if (unknown.length > 0) return { ok: false, error: `unknown measurement(s): ${unknown.join(', ')}` };
        options.only = names;
        break;
      }
      default:
        return { ok: false, error: `unknown argument: ${arg}` };
    }
  }
  if (options.runs > 100) return { ok: false, error: '--runs is at most 100' };
  if (options.vmidBase + 1000 > 999_999_999) return { ok: false, error: '--vmid-base too large' };
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(options.node)) return { ok: false, error: '--node is not a node name' };
  if (options.mount === undefined && (options.pid !== undefined || options.db !== undefined)) {
    return { ok: false, error: '--pid and --db go with --mount (the own daemon is known already)' };
  }
  return { ok: true, options };
}
