// The chaos report opened in a real headless chromium: the charts render (SVG with content), the
// checker table is there and nothing is logged as an error. Works from a file:// URL, offline.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { runCheckers } from '../../lab/chaos/checkers';
import { renderReport } from '../../lab/chaos/report';
import { HistoryBuilder } from '../unit/chaos/history-builder';
import { haveChromium, launchBrowser, openPage } from '../support/browser';

/** A history with writes on every node, EACCES on a cut node, a fence and its recovery. */
function sampleHistory() {
  const b = new HistoryBuilder()
    .fault({ kind: 'partition', nodes: ['node3'], groups: [['node1', 'node2'], ['node3']], start: 20_000, end: 40_000 })
    .fault({ kind: 'fence', nodes: ['node1'], start: 60_000, end: 70_000 });
  for (let t = 0; t < 100_000; t += 250)
    for (const n of ['node1', 'node2', 'node3']) {
      const cut = n === 'node3' && t > 21_000 && t < 40_000;
      const down = n === 'node1' && t > 60_000 && t < 75_000;
      if (down) continue;
      b.op(n, 'write', `chaos/${n}/f`, t, t + 5 + (t % 37), cut ? { outcome: 'fail', errno: 'EACCES', value: `${t}` } : { value: `${n}${t}` });
    }
  b.recovery({ kind: 'heal', from: 40_000, at: 43_000 }).recovery({ kind: 'rejoin', node: 'node1', from: 70_000, at: 75_000 }).recovery({ kind: 'final-convergence', from: 100_000, at: 101_000 });
  b.final({ 'chaos/node1/f': 'node199750', 'chaos/node2/f': 'node299750', 'chaos/node3/f': 'node399750' });
  return b.build();
}

describe.skipIf(!haveChromium())('chaos report in a browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders the timeline, latency and throughput charts and the checker table without a console error', async () => {
    const h = sampleHistory();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-report-'));
    const file = path.join(dir, 'report.html');
    fs.writeFileSync(file, renderReport({ history: h, results: runCheckers(h), replayCommand: 'npm run lab -- chaos --seed 1' }));
    const { page, errors } = await openPage(browser, `file://${file}`);
    expect(await page.getAttribute('body', 'data-rendered')).toBe('5'); // timeline, 3 latency, throughput
    expect(await page.locator('#timeline rect.fault').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('svg.latency circle.op').count()).toBe(h.ops.length);
    expect(await page.locator('#throughput polyline').count()).toBe(3);
    expect(await page.locator('#checkers tbody tr').count()).toBe(7);
    const box = await page.locator('#timeline').boundingBox();
    expect(box!.width).toBeGreaterThan(500);
    // hover shows the details of an operation
    await page.locator('svg.latency circle.op').first().hover({ force: true });
    expect(await page.locator('#tip').textContent()).toMatch(/write chaos\//);
    expect(errors).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
