import { describe, expect, it } from 'vitest';
import { parseQuorumtool } from '../../../lab/quorum';

// Captured from corosync 3.1.7 in a lab container.
const QUORATE = `Quorum information
------------------
Date:             Wed Nov 25 13:31:00 2026
Quorum provider:  corosync_votequorum
Nodes:            3
Node ID:          1
Ring ID:          1.d
Quorate:          Yes

Votequorum information
----------------------
Expected votes:   3
Highest expected: 3
Total votes:      3
Quorum:           2  
Flags:            Quorate 

Membership information
----------------------
    Nodeid      Votes Name
         1          1 node1 (local)
         2          1 node2
         3          1 node3
`;

const ALONE = `Quorum information
------------------
Date:             Wed Nov 25 13:40:00 2026
Quorum provider:  corosync_votequorum
Nodes:            1
Node ID:          3
Ring ID:          3.11
Quorate:          No

Votequorum information
----------------------
Expected votes:   3
Highest expected: 3
Total votes:      1
Quorum:           2 Activity blocked
Flags:            

Membership information
----------------------
    Nodeid      Votes Name
         3          1 node3 (local)
`;

describe('parseQuorumtool', () => {
  it('reads a quorate three-node ring', () => {
    const q = parseQuorumtool(QUORATE)!;
    expect(q.quorate).toBe(true);
    expect(q.nodeId).toBe(1);
    expect(q.nodes).toBe(3);
    expect(q.expectedVotes).toBe(3);
    expect(q.totalVotes).toBe(3);
    expect(q.quorum).toBe(2);
    expect(q.ringId).toBe('1.d');
    expect(q.members).toEqual([
      { nodeid: 1, votes: 1, name: 'node1', local: true },
      { nodeid: 2, votes: 1, name: 'node2', local: false },
      { nodeid: 3, votes: 1, name: 'node3', local: false },
    ]);
  });

  it('reads a node cut off alone as not quorate', () => {
    const q = parseQuorumtool(ALONE)!;
    expect(q.quorate).toBe(false);
    expect(q.nodes).toBe(1);
    expect(q.quorum).toBe(2);
    expect(q.members.map((m) => m.name)).toEqual(['node3']);
  });

  it('returns null for an error message', () => {
    expect(parseQuorumtool('Cannot initialize QUORUM service\n')).toBeNull();
    expect(parseQuorumtool('')).toBeNull();
  });
});
