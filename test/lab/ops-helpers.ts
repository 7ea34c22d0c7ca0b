// Shared by the operating scenarios (test/lab/ops-*.test.ts): the steps an operator runs on a node
// (stop/start the daemon the way systemd would, stop corosync) and a comparable listing of a tree.
import { createHash } from 'crypto';
import * as fs from 'fs';
import { waitUntil } from '../../lab/wait';
import { ensureLab, execIn, lab, shIn } from './lab-fixture';

/** Run a shell snippet in a node; throw with its output when it fails. */
export async function sh(node: string, script: string, opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<string> {
  const r = await shIn(node, script, { timeoutMs: 60_000, ...opts });
  if (r.code !== 0) throw new Error(`${node}: \`${script}\` failed with status ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** A file's bytes from a node (base64 through the shell, so binary content survives). */
export async function readBytes(node: string, file: string): Promise<Buffer> {
  return Buffer.from((await sh(node, `base64 -w0 '${file}'`)).trim(), 'base64');
}

/** Write a file on a node, atomically (tmp + rename, as PVE tools do). */
export async function writeAtomic(node: string, file: string, content: string | Buffer): Promise<void> {
  await sh(node, `cat > '${file}.tmp' && mv '${file}.tmp' '${file}'`, { input: content });
}

const DAEMON_PATTERN = "'^(/usr/local/bin/)?node /opt/pmxcfs-ts/dist/src/main[.]js'";

export async function daemonPids(node: string): Promise<number[]> {
  const r = await shIn(node, `pgrep -f ${DAEMON_PATTERN} || true`);
  return r.stdout.split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number);
}

async function mounted(node: string): Promise<boolean> {
  return (await shIn(node, 'mountpoint -q /etc/pve')).code === 0;
}

/**
 * Stop every pmxcfs-ts on the node (`systemctl stop pve-cluster`): SIGTERM, then wait until the
 * process is gone and /etc/pve unmounted. The entrypoint's own daemon is not restarted by it.
 */
export async function stopDaemon(node: string): Promise<void> {
  const n = (await lab()).node(node);
  const exits = async (): Promise<number> => ((await n.logs(100_000)).match(/pmxcfs-ts exited/g) ?? []).length;
  const pids = await daemonPids(node);
  // The entrypoint's child runs without --ready-fd (a daemonized one was started with it).
  const args = pids.length ? (await shIn(node, `ps -o args= -p ${pids.join(',')}`)).stdout : '';
  const ownChild = args.split('\n').some((a) => a.includes('main.js') && !a.includes('--ready-fd'));
  const before = ownChild ? await exits() : 0;
  if (pids.length > 0) await sh(node, `kill -TERM ${pids.join(' ')}`);
  await waitUntil(
    `pmxcfs-ts stopped on ${node}`,
    async () => ({ pids: await daemonPids(node), mounted: await mounted(node) }),
    (s) => s.pids.length === 0 && !s.mounted,
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  // The entrypoint unmounts after its child exits: let it be done before anyone mounts again.
  if (ownChild) await waitUntil(`the entrypoint of ${node} saw its daemon exit`, exits, (n) => n > before, { timeoutMs: 60_000, intervalMs: 100 });
}

/** Start pmxcfs-ts as a service would: it daemonizes once /etc/pve is mounted. */
export async function startDaemon(node: string, args = ''): Promise<void> {
  await sh(node, `pmxcfs-ts ${args}`, { timeoutMs: 60_000 });
  if (!(await mounted(node))) throw new Error(`pmxcfs-ts ${args} on ${node} returned but /etc/pve is not mounted`);
}

/** Stop corosync on the node (`systemctl stop corosync`) and wait until it is gone. */
export async function stopCorosync(node: string): Promise<void> {
  await sh(node, 'for p in $(pgrep -x corosync); do kill -TERM $p; done');
  await waitUntil(
    `corosync stopped on ${node}`,
    async () => (await shIn(node, 'pgrep -x corosync')).code,
    (code) => code !== 0,
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

export interface DaemonStatus {
  mode: string;
  quorate: boolean;
  version: number;
  nodename: string;
  members: { nodeid: number; name: string; online: boolean }[];
}

/** `pmxcfs-ts status --json` on a node (the health command; non-zero exit = unhealthy). */
export async function daemonStatus(node: string, extra = ''): Promise<{ healthy: boolean; status: DaemonStatus | null; raw: string }> {
  const r = await execIn(node, ['sh', '-c', `pmxcfs-ts status --json ${extra}`]);
  let status: DaemonStatus | null = null;
  try {
    status = (JSON.parse(r.stdout) as { status?: DaemonStatus }).status ?? null;
  } catch {
    status = null;
  }
  return { healthy: r.code === 0, status, raw: r.stdout + r.stderr };
}

// Virtual files at the root of the mount: generated per node, not part of the stored tree.
const VIRTUAL = new Set(['./.members', './.version', './.vmlist', './.clusterlog', './.rrd', './.debug']);

/**
 * The stored tree under a mount as sorted lines `type mode size mtime path sha256` (symlinks and the
 * virtual files left out). Works the same in a container (shell) and on the host (text in, lines out).
 */
export const LISTING_SCRIPT = (dir: string): string =>
  `cd '${dir}' && find . -mindepth 1 ! -type l -printf '%y %m %s %T@ %p\\n' && echo '@@hash' && find . -type f -exec sha256sum {} +`;

export function parseListing(text: string, opts: { modes?: boolean } = {}): string[] {
  const [meta = '', hashes = ''] = text.split('@@hash\n');
  const hash = new Map<string, string>();
  for (const line of hashes.split('\n')) {
    const m = /^([0-9a-f]{64})\s+(.*)$/.exec(line);
    if (m) hash.set(m[2]!, m[1]!);
  }
  const out: string[] = [];
  for (const line of meta.split('\n')) {
    const m = /^(\S) (\d+) (\d+) (\d+)(?:\.\d+)? (.*)$/.exec(line);
    if (!m || VIRTUAL.has(m[5]!)) continue;
    const [, type, mode, size, mtime, p] = m;
    out.push([type, opts.modes === false ? '-' : mode, type === 'd' ? '-' : size, mtime, p, hash.get(p!) ?? '-'].join(' '));
  }
  return out.sort();
}

export async function listing(node: string, dir = '/etc/pve', opts: { modes?: boolean } = {}): Promise<string[]> {
  return parseListing(await sh(node, LISTING_SCRIPT(dir), { timeoutMs: 120_000 }), opts);
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Copy a file out of a node (running or stopped) to the host. */
export async function copyOut(node: string, from: string, to: string): Promise<void> {
  fs.writeFileSync(to, await (await lab()).node(node).copyOut(from));
}

/** Copy a host file into a node (running or stopped). */
export async function copyIn(node: string, from: string, to: string): Promise<void> {
  await (await lab()).node(node).copyIn(to, fs.readFileSync(from), fs.statSync(from).mode & 0o7777);
}

/** ensureLab(), then also wait until every daemon itself is quorate (it lags corosync a little). */
export async function ensureQuorateLab(): Promise<void> {
  await ensureLab();
  await (await lab()).waitQuorate();
}
