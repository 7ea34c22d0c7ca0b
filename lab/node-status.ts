// One node's state as the lab sees it, gathered with a single `docker exec`: container, corosync
// quorum (corosync-quorumtool), the daemon process, the /etc/pve mount and the daemon's own files.
import { execInContainer, inspectContainer } from './dockerode-client';
import { parseQuorumtool, type QuorumInfo } from './quorum';

export interface NodeStatus {
  node: string;
  container: string; // running, exited, absent, ...
  onNetwork: boolean; // attached to the cluster network (false while disconnected)
  ip: string | null;
  blocked: string[]; // peer addresses this node cannot reach (group partitions: blackhole routes)
  quorum: QuorumInfo | null; // null: corosync not answering
  daemonInImage: boolean; // dist/src/main.js present in the image
  daemonPid: number | null;
  mounted: boolean; // /etc/pve is a FUSE mount
  configVersion: number | null; // corosync totem.config_version (cmap)
  treeVersion: number | null; // highest counter in /etc/pve/.version
  daemonQuorate: boolean | null; // cluster.quorate in /etc/pve/.members (the daemon's view)
  daemonMode: string | null; // "cluster" or "local" from .members, when readable
}

const MAIN = '/opt/pmxcfs-ts/dist/src/main.js';

// Sections are separated by marker lines; reads under /etc/pve use `timeout` so that a hung mount
// shows up as missing data instead of a hung status command.
const PROBE = `
echo '@@quorum'; corosync-quorumtool -s 2>&1
echo '@@mount'; awk '$2=="/etc/pve"{print $3}' /proc/mounts
echo '@@daemon'; pgrep -f '^(/usr/local/bin/)?node .*dist/src/main[.]js' | head -n 1
echo '@@image'; test -f ${MAIN} && echo yes
echo '@@blocked'; ip route show type blackhole 2>/dev/null | awk '{print $2}'
echo '@@cfgversion'; corosync-cmapctl -g totem.config_version 2>/dev/null
if awk '$2=="/etc/pve"{f=1} END{exit !f}' /proc/mounts; then
  echo '@@version'; timeout 3 cat /etc/pve/.version 2>/dev/null
  echo '@@members'; timeout 3 cat /etc/pve/.members 2>/dev/null
fi
echo '@@end'
`;

export function splitSections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | null = null;
  let buf: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^@@(\w+)$/.exec(line);
    if (m) {
      if (name) out.set(name, buf.join('\n').trim());
      name = m[1]!;
      buf = [];
    } else buf.push(line);
  }
  if (name) out.set(name, buf.join('\n').trim());
  return out;
}

/** The highest version counter in a .version document (every number but starttime). */
export function maxTreeVersion(text: string): number | null {
  let max: number | null = null;
  for (const m of text.matchAll(/"([^"]+)":\s*(\d+)/g)) {
    if (m[1] === 'starttime') continue;
    const v = Number(m[2]);
    if (max === null || v > max) max = v;
  }
  return max;
}

export function parseMembers(text: string): { quorate: boolean | null; mode: string | null } {
  try {
    const j = JSON.parse(text) as { cluster?: { quorate?: number } };
    if (j.cluster) return { quorate: j.cluster.quorate === 1, mode: 'cluster' };
    return { quorate: null, mode: 'local' };
  } catch {
    return { quorate: null, mode: null };
  }
}

/** A node's status: `container` is the container's name, `network` the cluster network. */
export async function probeNodeStatus(node: string, container: string, network: string): Promise<NodeStatus> {
  const st = await inspectContainer(container);
  const base: NodeStatus = {
    node,
    container: st.status,
    onNetwork: network in st.networks,
    ip: st.networks[network] || null,
    blocked: [],
    quorum: null,
    daemonInImage: false,
    daemonPid: null,
    mounted: false,
    configVersion: null,
    treeVersion: null,
    daemonQuorate: null,
    daemonMode: null,
  };
  if (!st.running) return base;
  const r = await execInContainer(container, ['sh', '-c', PROBE], { timeoutMs: 20_000 }).catch(() => null);
  if (r === null) return base; // stopped between the inspect and the exec
  const s = splitSections(r.stdout);
  const pid = Number((s.get('daemon') ?? '').split('\n')[0]);
  const cfg = /=\s*(\d+)/.exec(s.get('cfgversion') ?? '');
  const members = s.has('members') ? parseMembers(s.get('members')!) : { quorate: null, mode: null };
  return {
    ...base,
    quorum: parseQuorumtool(s.get('quorum') ?? ''),
    blocked: (s.get('blocked') ?? '').split('\n').map((l) => l.replace(/\/32$/, '').trim()).filter(Boolean),
    daemonInImage: s.get('image') === 'yes',
    daemonPid: pid > 0 ? pid : null,
    mounted: (s.get('mount') ?? '').startsWith('fuse'),
    configVersion: cfg ? Number(cfg[1]) : null,
    treeVersion: s.has('version') ? maxTreeVersion(s.get('version')!) : null,
    daemonQuorate: members.quorate,
    daemonMode: members.mode,
  };
}

export function statusTable(rows: readonly NodeStatus[]): string {
  const head = ['node', 'container', 'ip', 'corosync', 'members', 'daemon', '/etc/pve', 'cfg', 'tree', 'pve-quorate'];
  const yn = (b: boolean | null): string => (b === null ? '-' : b ? 'yes' : 'no');
  const body = rows.map((r) => [
    r.node,
    r.container,
    r.ip ? (r.blocked.length ? `${r.ip} (cut from ${r.blocked.length})` : r.ip) : r.container === 'running' ? 'cut off' : '-',
    r.quorum ? (r.quorum.quorate ? 'quorate' : 'NOT quorate') : r.container === 'running' ? 'down' : '-',
    r.quorum ? r.quorum.members.map((m) => m.nodeid).join(',') : '-',
    r.daemonPid ? `pid ${r.daemonPid}${r.daemonMode ? ` ${r.daemonMode}` : ''}` : r.daemonInImage ? 'NOT running' : 'not built',
    r.mounted ? 'mounted' : 'no',
    r.configVersion === null ? '-' : String(r.configVersion),
    r.treeVersion === null ? '-' : String(r.treeVersion),
    yn(r.daemonQuorate),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const fmt = (row: string[]): string => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(head), ...body.map(fmt)].join('\n');
}
