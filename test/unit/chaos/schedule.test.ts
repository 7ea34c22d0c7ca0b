import { describe, expect, it } from 'vitest';
import { generateSchedule, randomGroups } from '../../../lab/chaos/schedule';
import { FAULT_KINDS } from '../../../lab/chaos/history';
import { Prng } from '../../../lab/prng';

const NODES5 = ['node1', 'node2', 'node3', 'node4', 'node5'];

describe('chaos fault schedule', () => {
  it('the same seed gives the same schedule, another seed a different one', () => {
    const o = { nodes: NODES5, durationMs: 300_000, faults: FAULT_KINDS };
    const a = generateSchedule({ ...o, seed: 42 });
    expect(generateSchedule({ ...o, seed: 42 })).toEqual(a);
    expect(generateSchedule({ ...o, seed: 43 })).not.toEqual(a);
    expect(a.length).toBeGreaterThan(5);
  });

  it('keeps the tail quiet, uses only the asked kinds, and never has two partitions at once', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const s = generateSchedule({ seed, nodes: NODES5, durationMs: 120_000, faults: ['partition', 'fence'] });
      for (const f of s) {
        expect(['partition', 'fence']).toContain(f.kind);
        expect(f.at + f.durationMs).toBeLessThanOrEqual(120_000 * 0.85);
        expect(f.nodes.length).toBeGreaterThan(0);
      }
      const parts = s.filter((f) => f.kind === 'partition');
      for (const p of parts) for (const q of parts) if (p !== q) expect(p.at >= q.at + q.durationMs || q.at >= p.at + p.durationMs).toBe(true);
    }
  });

  it('a second fault overlapping the first never hits the same node', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const s = generateSchedule({ seed, nodes: ['a', 'b', 'c'], durationMs: 200_000, faults: ['fence', 'kill'], overlap: 1 });
      for (const p of s)
        for (const q of s)
          if (p.id < q.id && q.at < p.at + p.durationMs) expect(q.nodes.filter((n) => p.nodes.includes(n))).toEqual([]);
    }
  });

  it('partition groups cover every node once, in 2 or 3 groups of any shape', () => {
    const shapes = new Set<string>();
    const rng = new Prng(7);
    for (let i = 0; i < 300; i++) {
      const g = randomGroups(rng, NODES5);
      expect(g.flat().sort()).toEqual(NODES5);
      expect(g.length).toBeGreaterThanOrEqual(2);
      expect(g.length).toBeLessThanOrEqual(3);
      shapes.add(g.map((x) => x.length).join('|'));
    }
    // 4|1, 3|2, 3|1|1, 2|2|1 all occur
    expect([...shapes].sort()).toEqual(['2|2|1', '3|1|1', '3|2', '4|1']);
  });
});
