/**
 * The dcdb application (`pve_dcdb_v1`, protocol 1) on the generic DFSM: the replicated file tree.
 * State = the memdb index; the sync leader sends one UPDATE per differing inode; NORMAL messages
 * are file-system operations applied on every node at delivery (spec §5, §8.7 cluster part).
 * Pure: memdb is in-memory apart from its store, quorum is read through the given source, time
 * comes from the DFSM context.
 *
 * A full disk (memdb answers -ENOSPC without its error flag; nothing was applied here) must not let
 * this node diverge from the others, who did apply the operation: the node leaves the group
 * (restartable LEAVE, not the reference's ERROR) and is resynced from the others when it re-joins.
 * A sync commit that fails for a full disk leaves the same way; any other failure is ERROR.
 */
import type { AppContext, DeliverOutcome, DfsmApp, MemberState } from '../dfsm/app';
import type { GroupMember, QuorumSource } from '../dfsm/transport';
import { Errno } from '../memdb/errno';
import { writeSpans } from '../trace/write-spans';
import type { MemDb } from '../memdb/memdb';
import { isLockDir, normalizePath } from '../memdb/paths';
import { rowOfEntry } from '../memdb/rows';
import type { DbRow, FsOp } from '../memdb/types';
import { COROSYNC_CONF_PATH } from './corosync-conf';
import {
  DCDB_PROTOCOL_VERSION,
  DcdbMessageType,
  decodeFsOp,
  decodeUnlockMessage,
  encodeUnlockMessage,
  isFsMessageType,
} from './messages';
import { decodeStates, inodesToUpdate, selectLeader, syncedMembers } from './sync';
import { decodeUpdate, encodeUpdate } from './update';

/** What the dcdb asks of the shell. */
export type DcdbEffect =
  /** corosync.conf in the tree may have changed: run the §9 procedure (reload only if allowed). */
  { kind: 'corosync-conf-changed'; reloadAllowed: boolean };

/**
 * Start of the leave reason when this node could not persist a delivered operation (disk full);
 * DcdbClient answers ENOSPC to the local writer whose own message ended that way.
 */
export const DISK_FULL_LEAVE_REASON = 'local disk full';

function sameMember(a: GroupMember, b: GroupMember): boolean {
  return a.nodeid === b.nodeid && a.pid === b.pid;
}

/** True when a successful op wrote corosync.conf (WRITE/CREATE of it, or RENAME onto it). */
function touchesCorosyncConf(op: FsOp): boolean {
  if (op.kind === 'write' || op.kind === 'create') return normalizePath(op.path) === COROSYNC_CONF_PATH;
  if (op.kind === 'rename') return normalizePath(op.to) === COROSYNC_CONF_PATH;
  return false;
}

export class DcdbApp implements DfsmApp<DcdbEffect> {
  readonly protocolVersion = DCDB_PROTOCOL_VERSION;

  /** The sync round in progress (non-leader members in UPDATE mode). */
  private leader: GroupMember | null = null;
  private leaderIndex: Buffer | null = null;
  private updates: DbRow[] = [];

  constructor(
    private readonly memdb: MemDb,
    private readonly quorum: QuorumSource,
  ) {}

  getState(): Buffer {
    return this.memdb.encodeIndex();
  }

  processStateUpdate(states: readonly MemberState[], ctx: AppContext<DcdbEffect>): GroupMember[] | null {
    const decoded = decodeStates(states);
    if (!Array.isArray(decoded)) {
      ctx.log('critical', `unable to decode the state: ${decoded.error}`);
      return null;
    }
    if (decoded.length === 0) return null;
    const leaderAt = selectLeader(decoded);
    const leader = decoded[leaderAt]!;
    const synced = syncedMembers(decoded, leaderAt);
    this.leader = { ...leader.member };
    this.leaderIndex = Buffer.from(leader.raw);
    this.updates = [];
    ctx.log('notice', `leader is ${leader.member.nodeid}/${leader.member.pid}`);
    ctx.log('notice', `synced members: ${synced.map((m) => `${m.nodeid}/${m.pid}`).join(', ')}`);

    if (sameMember(leader.member, ctx.self)) {
      ctx.log('notice', 'start sending inode updates');
      const others = decoded.filter((s) => !synced.some((m) => sameMember(m, s.member))).map((s) => s.index);
      const inodes = others.length > 0 ? inodesToUpdate(leader.index, others) : [];
      for (const inode of inodes) {
        const entry = this.memdb.entryByInode(inode);
        if (entry === undefined) {
          ctx.log('critical', `leader: inode ${inode} of our own index is missing`);
          return null;
        }
        ctx.sendUpdate(encodeUpdate(rowOfEntry(entry)));
      }
      ctx.log('notice', `sent all (${inodes.length}) updates`);
      ctx.sendUpdateComplete();
    }
    return synced;
  }

  processUpdate(from: GroupMember, payload: Buffer, ctx: AppContext<DcdbEffect>): boolean {
    if (this.leader === null || !sameMember(from, this.leader)) {
      ctx.log('critical', `received update from ${from.nodeid}/${from.pid}, who is not the leader`);
      return false;
    }
    const row = decodeUpdate(payload);
    if (!row.ok) {
      ctx.log('critical', `bad update from ${from.nodeid}/${from.pid}: ${row.error}`);
      return false;
    }
    this.updates.push(row.value);
    return true;
  }

  commit(ctx: AppContext<DcdbEffect>): boolean {
    if (this.leaderIndex === null) {
      ctx.log('critical', 'commit without a leader index');
      return false;
    }
    ctx.log('notice', `update complete - trying to commit (got ${this.updates.length} inode updates)`);
    const ok = this.memdb.applySync(this.leaderIndex, this.updates, ctx.now);
    this.updates = [];
    if (!ok) {
      if (this.memdb.errors) ctx.setErrorMode('sync commit failed: local tree does not match the leader index');
      else ctx.log('critical', `${DISK_FULL_LEAVE_REASON}: cannot store the leader's tree - leaving, will resync`);
      return false;
    }
    ctx.emit({ kind: 'corosync-conf-changed', reloadAllowed: false });
    return true;
  }

  cleanupSync(): void {
    this.leader = null;
    this.leaderIndex = null;
    this.updates = [];
  }

  deliver(
    from: GroupMember,
    subtype: number,
    payload: Buffer,
    time: number,
    ctx: AppContext<DcdbEffect>,
  ): DeliverOutcome {
    if (!this.quorum.quorate()) {
      return { kind: 'leave', reason: 'received write while not quorate - trigger resync' };
    }
    const origin = { writer: from.nodeid, mtime: time };
    if (subtype === DcdbMessageType.UNLOCK_REQUEST || subtype === DcdbMessageType.UNLOCK) {
      return this.deliverUnlock(from, subtype, payload, origin, ctx);
    }
    if (!isFsMessageType(subtype)) {
      return { kind: 'leave', reason: `received unknown dcdb message type ${subtype} from ${from.nodeid}/${from.pid}` };
    }
    const op = decodeFsOp(subtype, payload);
    if (!op.ok) {
      return { kind: 'leave', reason: `bad dcdb message (type ${subtype}) from ${from.nodeid}/${from.pid}: ${op.error}` };
    }
    writeSpans.applyStart();
    const result = this.memdb.apply(op.value, origin, ctx.now);
    writeSpans.applyEnd();
    if (this.memdb.errors) {
      ctx.setErrorMode('memdb reported errors while applying an operation');
    } else if (result === -Errno.ENOSPC) {
      return { kind: 'leave', reason: `${DISK_FULL_LEAVE_REASON}: cannot store ${op.value.kind} from ${from.nodeid}/${from.pid} - leaving, will resync` };
    } else if (result >= 0 && touchesCorosyncConf(op.value)) {
      ctx.emit({ kind: 'corosync-conf-changed', reloadAllowed: sameMember(from, ctx.self) });
    }
    return { kind: 'processed', result };
  }

  checksum(): Buffer {
    return this.memdb.verifyChecksum();
  }

  /** Spec §8.7: only the lowest nodeid decides expiry; every node deletes on UNLOCK. */
  private deliverUnlock(
    from: GroupMember,
    subtype: number,
    payload: Buffer,
    origin: { writer: number; mtime: number },
    ctx: AppContext<DcdbEffect>,
  ): DeliverOutcome {
    const msg = decodeUnlockMessage(subtype, payload);
    if (!msg.ok) {
      return { kind: 'leave', reason: `bad unlock message from ${from.nodeid}/${from.pid}: ${msg.error}` };
    }
    const { path, csum } = msg.value;
    if (!isLockDir(path) || !this.memdb.lockCsumMatches(path, csum)) return { kind: 'processed', result: 0 };
    if (subtype === DcdbMessageType.UNLOCK_REQUEST) {
      if (ctx.self.nodeid === ctx.lowestNodeid && this.memdb.lockExpired(path, ctx.now, csum)) {
        ctx.log('info', `lock '${path}' expired - multicasting unlock`);
        ctx.sendAsync(DcdbMessageType.UNLOCK, encodeUnlockMessage({ csum, path }));
      }
      return { kind: 'processed', result: 0 };
    }
    const result = this.memdb.apply({ kind: 'delete', path }, origin, ctx.now);
    if (this.memdb.errors) ctx.setErrorMode('memdb reported errors while deleting an expired lock');
    else if (result === -Errno.ENOSPC) return { kind: 'leave', reason: `${DISK_FULL_LEAVE_REASON}: cannot remove expired lock '${path}' - leaving, will resync` };
    else ctx.log('info', `removed expired lock '${path}' (${result})`);
    return { kind: 'processed', result };
  }
}
