import { describe, expect, it } from 'vitest';
import { Dfsm, type DfsmEffect } from '../../../src/dfsm/dfsm';
import type { DfsmApp } from '../../../src/dfsm/app';
import { DfsmMessageType, encodeNormalMessage, encodeStateMessage } from '../../../src/dfsm/header';
import { DfsmMode } from '../../../src/dfsm/modes';
import type { GroupMember } from '../../../src/dfsm/transport';

/** A minimal application: state = its name, everybody is synced, deliveries are recorded. */
function recordingApp(delivered: string[]): DfsmApp<never> {
  return {
    protocolVersion: 0,
    getState: () => Buffer.from('s'),
    processStateUpdate: (states) => states.map((s) => s.member),
    processUpdate: () => true,
    commit: () => true,
    deliver: (from, subtype, payload) => {
      delivered.push(`${from.nodeid}:${subtype}:${payload.toString()}`);
      return { kind: 'processed', result: subtype };
    },
  };
}

const A: GroupMember = { nodeid: 1, pid: 10 };
const B: GroupMember = { nodeid: 2, pid: 20 };
const normal = (subtype: number, count: number, text: string) =>
  encodeNormalMessage({ subtype, protocolVersion: 0, time: 1, count }, Buffer.from(text));
const mcasts = (effects: DfsmEffect[]) => effects.flatMap((e) => (e.kind === 'mcast' ? [e.data] : []));

describe('generic DFSM', () => {
  it('queue 1 is sorted by count only and delivered once synced', () => {
    const delivered: string[] = [];
    const dfsm = new Dfsm(recordingApp(delivered));
    dfsm.joined(B);
    dfsm.confchg([B], [], [B], 100);
    expect(dfsm.mode).toBe(DfsmMode.SYNCED);
    const e = dfsm.confchg([B, A], [], [A], 101);
    expect(dfsm.mode).toBe(DfsmMode.START_SYNC);
    expect(mcasts(e)).toEqual([]); // B is not the lowest nodeid: no SYNC_START from us
    dfsm.deliver(A, normal(1, 5, 'a5'), 102);
    dfsm.deliver(B, normal(2, 2, 'b2'), 102);
    dfsm.deliver(A, normal(3, 2, 'a2'), 102);
    expect(delivered).toEqual([]);
    const epoch = { epoch: 7, time: 101, nodeid: 1, pid: 10 };
    const syncStart = encodeStateMessage(DfsmMessageType.SYNC_START, { protocolVersion: 0, time: 101, epoch });
    const ours = mcasts(dfsm.deliver(A, syncStart, 103));
    expect(ours.length).toBe(1); // our STATE, carrying the adopted epoch
    expect(ours[0]!.readUInt32LE(16)).toBe(7);
    dfsm.deliver(A, encodeStateMessage(DfsmMessageType.STATE, { protocolVersion: 0, time: 1, epoch }, Buffer.from('s')), 104);
    dfsm.deliver(B, encodeStateMessage(DfsmMessageType.STATE, { protocolVersion: 0, time: 1, epoch }, Buffer.from('s')), 104);
    expect(dfsm.mode).toBe(DfsmMode.SYNCED);
    // count 2 (b2 then a2, stable in arrival order), then count 5.
    expect(delivered).toEqual(['2:2:b2', '1:3:a2', '1:1:a5']);
  });

  it('send() reports the result of our own message when it comes back', () => {
    const dfsm = new Dfsm(recordingApp([]));
    dfsm.joined(A);
    dfsm.confchg([A], [], [A], 1);
    const sent = dfsm.send(4, Buffer.from('x'), 2);
    expect(sent.ok).toBe(true);
    if (!sent.ok) return;
    expect(sent.count).toBe(1);
    const data = mcasts(sent.effects)[0]!;
    const effects = dfsm.deliver(A, data, 3);
    expect(effects).toContainEqual({ kind: 'result', count: 1, result: { processed: true, result: 4 } });
  });

  it('a duplicate STATE makes the node leave', () => {
    const dfsm = new Dfsm(recordingApp([]));
    dfsm.joined(A);
    dfsm.confchg([A, B], [], [A, B], 1);
    const epoch = dfsm.epoch;
    const state = encodeStateMessage(DfsmMessageType.STATE, { protocolVersion: 0, time: 1, epoch }, Buffer.from('s'));
    dfsm.deliver(A, encodeStateMessage(DfsmMessageType.SYNC_START, { protocolVersion: 0, time: 1, epoch }), 2);
    dfsm.deliver(B, state, 2);
    const effects = dfsm.deliver(B, state, 2);
    expect(dfsm.mode).toBe(DfsmMode.LEAVE);
    expect(effects.some((e) => e.kind === 'leave' && e.restartable)).toBe(true);
  });
});
