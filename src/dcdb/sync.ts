/**
 * The pure decisions of a dcdb sync round (spec §5.2): who leads, who is already synced, and
 * which inodes the leader must send.
 */
import type { GroupMember } from '../dfsm/transport';
import type { MemberState } from '../dfsm/app';
import { decodeIndex, IndexDecodeError, type DecodedIndex } from '../memdb/index-codec';

export interface MemberIndex {
  member: GroupMember;
  raw: Buffer;
  index: DecodedIndex;
}

/** Decode every member's state; the first malformed one is reported. */
export function decodeStates(states: readonly MemberState[]): MemberIndex[] | { error: string } {
  const out: MemberIndex[] = [];
  for (const s of states) {
    const index = decodeIndex(s.state);
    if (index instanceof IndexDecodeError) {
      return { error: `state of ${s.member.nodeid}/${s.member.pid}: ${index.message}` };
    }
    out.push({ member: s.member, raw: s.state, index });
  }
  return out;
}

/**
 * Position of the leader: highest index version, then higher root mtime, then the first in the
 * given (nodeid, pid) order.
 */
export function selectLeader(states: readonly MemberIndex[]): number {
  let leader = 0;
  for (let i = 1; i < states.length; i++) {
    const a = states[i]!.index;
    const b = states[leader]!.index;
    if (a.version > b.version || (a.version === b.version && a.mtime > b.mtime)) leader = i;
  }
  return leader;
}

/** The leader and every member whose index is byte-identical to the leader's. */
export function syncedMembers(states: readonly MemberIndex[], leader: number): GroupMember[] {
  const raw = states[leader]!.raw;
  return states.filter((s) => s.raw.equals(raw)).map((s) => s.member);
}

/**
 * Inodes (ascending) whose (inode, digest) in the leader's index is missing or different in any
 * of the other indexes. Deletions are not listed: receivers drop what the leader lacks.
 */
export function inodesToUpdate(leader: DecodedIndex, others: readonly DecodedIndex[]): number[] {
  const maps = others.map((idx) => new Map(idx.entries.map((e) => [e.inode, e.digest] as const)));
  const out: number[] = [];
  for (const e of leader.entries) {
    if (maps.some((m) => !(m.get(e.inode)?.equals(e.digest) ?? false))) out.push(e.inode);
  }
  return out;
}
