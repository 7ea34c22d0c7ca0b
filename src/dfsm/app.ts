/**
 * The interface between the generic DFSM and a replicated application (dcdb, kvstore).
 * Mirrors the reference's callback table, but every side effect goes through the context and
 * comes back out of the DFSM as data (effects), so applications stay pure.
 */
import type { GroupMember } from './transport';

export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical';

/** One member's state blob as collected during a sync round, in (nodeid, pid) order. */
export interface MemberState {
  readonly member: GroupMember;
  readonly state: Buffer;
}

/** What an application may do from inside a callback. */
export interface AppContext<E> {
  /** The caller's time (seconds since the epoch); never read from a clock. */
  readonly now: number;
  /** This process in the group. */
  readonly self: GroupMember;
  /** Current members, sorted by (nodeid, pid). */
  readonly members: readonly GroupMember[];
  /** Smallest nodeid among the members (0 before the first view). */
  readonly lowestNodeid: number;
  log(level: LogLevel, message: string): void;
  /** An application-specific effect for the shell (e.g. "corosync.conf changed"). */
  emit(effect: E): void;
  /** Multicast a NORMAL message without waiting for its result (fire and forget). */
  sendAsync(subtype: number, payload: Buffer): void;
  /** Multicast an UPDATE state message (sync leader only). */
  sendUpdate(payload: Buffer): void;
  /** Multicast UPDATE_COMPLETE (sync leader only). */
  sendUpdateComplete(): void;
  /** Enter the non-restartable ERROR mode (local data can no longer be trusted). */
  setErrorMode(reason: string): void;
}

/** What delivering one NORMAL message did. `result` goes to the sender's waiter. */
export type DeliverOutcome =
  | { kind: 'processed'; result: number }
  /** Not applied (e.g. unknown subtype); the sender's waiter sees "not processed". */
  | { kind: 'unprocessed' }
  /** This node must leave the group (e.g. a write while not quorate). */
  | { kind: 'leave'; reason: string };

export interface DfsmApp<E = never> {
  /** Protocol version carried in every header (dcdb 1, kvstore 0). */
  readonly protocolVersion: number;

  /** Our state for a sync round (dcdb: the memdb index). null = cannot, leave the group. */
  getState(ctx: AppContext<E>): Buffer | null;

  /**
   * All members' states are in (sorted by (nodeid, pid)). Return the members that are synced
   * (a leader may send UPDATEs and UPDATE_COMPLETE through ctx), or null to leave the group.
   */
  processStateUpdate(states: readonly MemberState[], ctx: AppContext<E>): GroupMember[] | null;

  /** One UPDATE from the leader while we are in UPDATE mode. false = leave. */
  processUpdate(from: GroupMember, payload: Buffer, ctx: AppContext<E>): boolean;

  /** UPDATE_COMPLETE while in UPDATE mode: apply what was collected. false = leave. */
  commit(ctx: AppContext<E>): boolean;

  /** The sync round ended or was abandoned: drop anything collected for it. */
  cleanupSync?(): void;

  /** Apply one NORMAL message. `time` is the sender's header time. */
  deliver(from: GroupMember, subtype: number, payload: Buffer, time: number, ctx: AppContext<E>): DeliverOutcome;

  /** A view change (after the DFSM's own handling). */
  confchg?(members: readonly GroupMember[], ctx: AppContext<E>): void;

  /** We just reached SYNCED. */
  synced?(ctx: AppContext<E>): void;

  /** The verify checksum (spec §4.7); omit to take no part in verification. null = leave. */
  checksum?(ctx: AppContext<E>): Buffer | null;
}
