// Parsing `corosync-quorumtool -s` output (pure), the lab's source of truth for quorum.
export interface QuorumInfo {
  quorate: boolean;
  nodeId: number | null;
  nodes: number | null; // "Nodes:" line: current members
  expectedVotes: number | null;
  totalVotes: number | null;
  quorum: number | null;
  ringId: string | null;
  members: Array<{ nodeid: number; votes: number; name: string; local: boolean }>;
}

function num(text: string, label: string): number | null {
  const m = new RegExp(`^${label}:\\s+(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/** Returns null when the text is not quorumtool status output (corosync down, for instance). */
export function parseQuorumtool(text: string): QuorumInfo | null {
  const q = /^Quorate:\s+(Yes|No)/m.exec(text);
  if (!q) return null;
  const ring = /^Ring ID:\s+(\S+)/m.exec(text);
  const members: QuorumInfo['members'] = [];
  const section = text.split(/^Membership information\s*$/m)[1] ?? '';
  for (const line of section.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)(\s+\(local\))?\s*$/.exec(line);
    if (m) members.push({ nodeid: Number(m[1]), votes: Number(m[2]), name: m[3]!, local: m[4] !== undefined });
  }
  return {
    quorate: q[1] === 'Yes',
    nodeId: num(text, 'Node ID'),
    nodes: num(text, 'Nodes'),
    expectedVotes: num(text, 'Expected votes'),
    totalVotes: num(text, 'Total votes'),
    quorum: num(text, 'Quorum'),
    ringId: ring ? ring[1]! : null,
    members,
  };
}
