import { describe, expect, it } from 'vitest';
import { runCheckers } from '../../../lab/chaos/checkers';
import { renderReport } from '../../../lab/chaos/report';
import { HistoryBuilder } from './history-builder';

describe('chaos report', () => {
  it('is one HTML file with no external reference, the seed, the charts and every checker', () => {
    const h = new HistoryBuilder()
      .fault({ kind: 'partition', nodes: ['node3'], groups: [['node1', 'node2'], ['node3']], start: 10_000, end: 20_000 })
      .op('node1', 'write', 'f<&>', 0, 10, { value: 'x' })
      .op('node3', 'write', 'f', 15_000, 15_010, { outcome: 'fail', errno: 'EACCES' })
      .final({ 'f<&>': 'x' })
      .build();
    const html = renderReport({ history: h, results: runCheckers(h), replayCommand: 'npm run lab -- chaos --seed 1' });
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(html).not.toContain('f<&>'); // escaped
    expect(html).toContain('f&#60;&#38;&#62;');
    expect(html).toContain('<b id="seed">1</b>');
    expect(html.match(/class="chart latency"/g)).toHaveLength(3);
    expect(html).toContain('id="timeline"');
    expect(html).toContain('id="throughput"');
    expect(html.match(/<tr class="(pass|fail)">/g)).toHaveLength(7);
  });
});
