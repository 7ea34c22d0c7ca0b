/**
 * `.members` (spec §8.4, also IPC op 2): this node's view of the cluster.
 * Two forms: with cluster info (a corosync nodelist is known) and the short local form.
 */

export interface MemberNode {
  name: string;
  id: number;
  online: boolean;
  /** Known only once the node broadcast its `nodeip` through the kvstore. */
  ip?: string;
}

export interface ClusterInfoView {
  name: string;
  /** totem.config_version */
  version: number;
  quorate: boolean;
  /** The corosync nodelist, in the order to print. */
  nodes: MemberNode[];
}

export interface MembersStatus {
  nodename: string;
  /** clinfo change counter */
  version: number;
  /** Absent in local mode or before cmap was read. */
  cluster?: ClusterInfoView;
}

// The reference prints ids and config_version with %d.
const asInt32 = (n: number): number => n | 0;

export function renderMembers(s: MembersStatus): string {
  const cluster = s.cluster;
  if (!cluster || cluster.nodes.length === 0) {
    return `{\n"nodename": "${s.nodename}",\n"version": ${s.version >>> 0}\n}\n`;
  }
  let out = '{\n';
  out += `"nodename": "${s.nodename}",\n`;
  out += `"version": ${s.version >>> 0},\n`;
  out +=
    `"cluster": { "name": "${cluster.name}", "version": ${asInt32(cluster.version)}, ` +
    `"nodes": ${cluster.nodes.length}, "quorate": ${cluster.quorate ? 1 : 0} },\n`;
  out += '"nodelist": {\n';
  out += cluster.nodes
    .map((n) => {
      const ip = n.ip !== undefined ? `, "ip": "${n.ip}"` : '';
      return `  "${n.name}": { "id": ${asInt32(n.id)}, "online": ${n.online ? 1 : 0}${ip}}`;
    })
    .join(',\n');
  out += '\n  }\n';
  out += '}\n';
  return out;
}
