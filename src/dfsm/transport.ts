/**
 * The seam between the pure DFSM and whatever carries its messages: corosync CPG in the daemon
 * (src/corosync/cpg-group.ts), a simulated group with virtual synchrony in test/sim.
 * Semantics are CPG's: agreed total order, and every member of a view sees the same sequence of
 * views and messages.
 */

/** A process in the group: corosync node id and process id. */
export interface GroupMember {
  nodeid: number;
  pid: number;
}

/** Callbacks a transport makes, on the event loop, in delivery order. */
export interface GroupHandler {
  /** We are in the group as `self` (after a join, or a re-join after the transport recovered). */
  joined(self: GroupMember): void;
  /** A view change: the full member list, and who left and joined since the previous view. */
  confchg(members: GroupMember[], left: GroupMember[], joined: GroupMember[]): void;
  /** A message multicast by `from`, in agreed order (our own messages come back too). */
  deliver(from: GroupMember, data: Buffer): void;
  /** We are out of the group (corosync went away, or we left): pending sends will never come back. */
  disconnected(reason: string): void;
}

/** What the DFSM shell needs from a transport. */
export interface GroupTransport {
  /** Multicast with agreed order. Resolves 0 when handed to the group, or -errno (EBUSY) when it cannot be. */
  mcast(data: Buffer): Promise<number>;
  /**
   * Leave the group; the transport joins again later (spec §4.2: LEAVE is restartable).
   * `rejoin === false` (ERROR/VERSION_ERROR): stay out until the process restarts.
   */
  leave(rejoin?: boolean): void;
}

/** Quorum as the shell sees it (libquorum in the daemon, a flag in the simulation). */
export interface QuorumSource {
  quorate(): boolean;
}
