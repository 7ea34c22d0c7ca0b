/**
 * A DfsmApp that wraps the real DcdbApp and records, for the invariants, what each delivery did:
 * the node's tree model follows every successful op and adopts the leader's model on a sync
 * commit; exactly-once application and cross-node agreement of results are checked here.
 * It never changes what the real app does or returns.
 */
import type { AppContext, DeliverOutcome, DfsmApp, MemberState } from '../../src/dfsm/app';
import { DfsmMessageType, NORMAL_HEADER_SIZE } from '../../src/dfsm/header';
import type { GroupMember } from '../../src/dfsm/transport';
import type { DcdbApp, DcdbEffect } from '../../src/dcdb/app';
import { DcdbMessageType, decodeFsOp, decodeUnlockMessage, isFsMessageType } from '../../src/dcdb/messages';
import { decodeStates, selectLeader } from '../../src/dcdb/sync';
import { isLockDir } from '../../src/memdb/paths';
import type { MemDb } from '../../src/memdb/memdb';
import type { TreeModel } from './model';

export function memberKey(m: GroupMember): string {
  return `${m.nodeid}/${m.pid}`;
}

/** What the recorder needs from the simulation. */
export interface RecorderHooks {
  /** Key (sender nodeid/pid#count) of the NORMAL message being delivered right now. */
  currentKey(): string | undefined;
  /** Id of the view the current delivery happens in. */
  currentViewId(): number;
  violation(kind: string, detail: string): void;
  /** Model snapshots taken when a process sent its STATE, by member key. */
  readonly snapshots: Map<string, { state: Buffer; model: TreeModel }>;
  /** viewId|key -> result, the first result seen for that message in that view. */
  readonly agreement: Map<string, number>;
  /** A message changed this node's tree (bumped its version). */
  onMutation(node: RecordedNode, key: string): void;
}

/** The per-node side the recorder reads and updates. */
export interface RecordedNode {
  readonly nodeid: number;
  model: TreeModel;
  /** Results of applying each message in this process (key -> result). */
  readonly appliedResults: Map<string, number>;
  /** True after an injected fault: this node's results and tree are no longer compared. */
  readonly faulted: boolean;
  /** What libquorum last told this node. */
  readonly quorate: boolean;
}

export class RecordingApp implements DfsmApp<DcdbEffect> {
  readonly protocolVersion: number;
  private pendingLeader: { state: Buffer; model: TreeModel } | null = null;

  constructor(
    private readonly inner: DcdbApp,
    private readonly memdb: MemDb,
    private readonly node: RecordedNode,
    private readonly hooks: RecorderHooks,
  ) {
    this.protocolVersion = inner.protocolVersion;
  }

  getState(ctx: AppContext<DcdbEffect>): Buffer | null {
    const state = this.inner.getState();
    this.hooks.snapshots.set(memberKey(ctx.self), { state: Buffer.from(state), model: this.node.model.clone() });
    return state;
  }

  processStateUpdate(states: readonly MemberState[], ctx: AppContext<DcdbEffect>): GroupMember[] | null {
    const decoded = decodeStates(states);
    if (Array.isArray(decoded) && decoded.length > 0) {
      const leader = decoded[selectLeader(decoded)]!;
      const snap = this.hooks.snapshots.get(memberKey(leader.member));
      if (snap === undefined || !snap.state.equals(leader.raw)) {
        this.hooks.violation('harness', `no model snapshot for the state of leader ${memberKey(leader.member)}`);
        this.pendingLeader = null;
      } else {
        this.pendingLeader = snap;
      }
    }
    return this.inner.processStateUpdate(states, ctx);
  }

  processUpdate(from: GroupMember, payload: Buffer, ctx: AppContext<DcdbEffect>): boolean {
    return this.inner.processUpdate(from, payload, ctx);
  }

  commit(ctx: AppContext<DcdbEffect>): boolean {
    const ok = this.inner.commit(ctx);
    if (ok && this.pendingLeader !== null) this.node.model = this.pendingLeader.model.clone();
    return ok;
  }

  cleanupSync(): void {
    this.inner.cleanupSync();
    this.pendingLeader = null;
  }

  deliver(from: GroupMember, subtype: number, payload: Buffer, time: number, ctx: AppContext<DcdbEffect>): DeliverOutcome {
    const key = messageKey(from, payload) ?? this.hooks.currentKey() ?? `?${memberKey(from)}`;
    const model = this.node.model;
    const fsOp = isFsMessageType(subtype) ? decodeFsOp(subtype, payload) : undefined;
    const unlock = subtype === DcdbMessageType.UNLOCK ? decodeUnlockMessage(subtype, payload) : undefined;
    const lockPath = fsOp?.ok && fsOp.value.kind === 'mkdir' && isLockDir(fsOp.value.path) ? norm(fsOp.value.path) : undefined;
    const lockHeld = lockPath !== undefined && model.has(lockPath);
    const unlockPath = unlock?.ok ? norm(unlock.value.path) : undefined;
    const unlockHad = unlockPath !== undefined && this.memdb.lookup(unlockPath) !== undefined;

    const versionBefore = this.memdb.version;
    const outcome = this.inner.deliver(from, subtype, payload, time, ctx);
    if (this.memdb.version !== versionBefore && outcome.kind === 'processed' && !this.node.faulted) {
      this.hooks.onMutation(this.node, key);
    }
    if (outcome.kind !== 'processed') return outcome;
    if (!this.node.quorate) this.hooks.violation('quorum', `node ${this.node.nodeid} applied ${key} while not quorate`);
    const result = outcome.result;
    this.node.appliedResults.set(key, result);
    if (this.node.faulted) return outcome;

    if (model.applied.has(key)) this.hooks.violation('exactly-once', `node ${this.node.nodeid} applied ${key} twice in its lineage`);
    model.applied.add(key);
    const agreeKey = `${this.hooks.currentViewId()}|${key}`;
    const seen = this.hooks.agreement.get(agreeKey);
    if (seen === undefined) this.hooks.agreement.set(agreeKey, result);
    else if (seen !== result) {
      this.hooks.violation('agreement', `${key} gave ${result} on node ${this.node.nodeid} but ${seen} elsewhere in view ${this.hooks.currentViewId()}`);
    }
    if (lockPath !== undefined && result === 0 && lockHeld) {
      this.hooks.violation('lock', `node ${this.node.nodeid}: mkdir ${lockPath} succeeded while the lock was held`);
    }
    if (fsOp?.ok && result >= 0) model.applySuccess(fsOp.value);
    if (unlockPath !== undefined && unlockHad && this.memdb.lookup(unlockPath) === undefined) {
      model.applySuccess({ kind: 'delete', path: unlockPath });
    }
    return outcome;
  }

  checksum(): Buffer | null {
    return this.inner.checksum();
  }
}

/**
 * sender#count of a NORMAL message, read from the header in front of its payload: the DFSM
 * decodes payloads as views of the received buffer (header.ts), and the simulated group hands
 * out unpooled buffers that start with the header.
 */
function messageKey(from: GroupMember, payload: Buffer): string | undefined {
  if (payload.byteOffset < NORMAL_HEADER_SIZE) return undefined;
  const header = Buffer.from(payload.buffer, payload.byteOffset - NORMAL_HEADER_SIZE, NORMAL_HEADER_SIZE);
  if (header.readUInt16LE(0) !== DfsmMessageType.NORMAL) return undefined;
  return `${memberKey(from)}#${Number(header.readBigUInt64LE(16))}`;
}

function norm(path: string): string {
  return path.split('/').filter((p) => p.length > 0).join('/');
}
