// Reading what a node holds at the end of a run: a digest of every entry under /etc/pve (names,
// types, sizes, contents; the daemon's top-level dot files and the symlinks differ per node by
// design and are left out) and the contents of the chaos area, in one program run inside the node.
import type { ChaosCluster } from './cluster';
import type { FinalNodeState } from './history';

const FINAL_PROGRAM = String.raw`
const fs = require('fs'), crypto = require('crypto');
const root = '/etc/pve';
// Only the pmxcfs mount counts: a bare directory under a vanished mount is no final state.
if (fs.statSync(root).dev === fs.statSync('/etc').dev) { process.stderr.write('/etc/pve is not mounted'); process.exit(2); }
const h = crypto.createHash('sha256');
const files = {};
const chaos = (p) => p.startsWith('chaos/') || /^nodes\/[^/]+\/qemu-server\/\d+\.conf$/.test(p) || p.startsWith('priv/lock/chaos-');
function walk(rel) {
  const names = fs.readdirSync(root + '/' + rel).sort();
  for (const n of names) {
    const p = rel ? rel + '/' + n : n;
    if (!rel && n.startsWith('.')) continue;
    const st = fs.lstatSync(root + '/' + p);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) { h.update('d ' + p + '\n'); if (chaos(p)) files[p] = '<dir>'; walk(p); continue; }
    const data = fs.readFileSync(root + '/' + p);
    h.update('f ' + p + ' ' + data.length + '\n'); h.update(data);
    if (chaos(p)) files[p] = data.toString('utf8');
  }
}
walk('');
process.stdout.write(JSON.stringify({ digest: h.digest('hex'), files }));
`;

export async function readFinalState(cluster: ChaosCluster, node: string): Promise<FinalNodeState> {
  const r = await cluster.exec(node, ['timeout', '60', 'node', '-e', FINAL_PROGRAM], { timeoutMs: 70_000 });
  try {
    const v = JSON.parse(r.stdout) as { digest: string; files: Record<string, string> };
    return { type: 'final', node, reachable: true, digest: v.digest, files: v.files };
  } catch {
    return { type: 'final', node, reachable: false, digest: `error: ${(r.stderr || r.stdout).trim().slice(0, 200)}`, files: {} };
  }
}

/** The chaos area cleared (and the directories it needs made) on one node before a run. */
export function prepareScript(nodes: readonly string[]): string {
  return [
    'set -e',
    'cd /etc/pve',
    'rm -rf chaos',
    'for d in priv/lock/chaos-*; do [ -d "$d" ] && rmdir "$d" || true; done',
    'rm -f nodes/*/qemu-server/9[0-9][0-9][0-9].conf',
    'mkdir -p chaos/shared priv/lock ' + nodes.map((n) => `chaos/${n} nodes/${n}/qemu-server`).join(' '),
  ].join('\n');
}
