// A short chaos run on the suite's library cluster (e2e, 3 nodes, about a minute, fixed seed): clients on every node while
// the seeded faults run; every checker must pass. The history and the report stay under
// test-output/chaos/ (and the report is opened in chromium: charts drawn, no console error).
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabChaosCluster } from '../../lab/chaos/lab-cluster';
import { runChaos } from '../../lab/chaos/runner';
import { FAULT_KINDS } from '../../lab/chaos/history';
import { repoRoot } from '../../lab/topology';
import { haveChromium, launchBrowser, openPage } from '../support/browser';
import { ensureCluster, NAMES } from './cluster-checks';
import { lab } from './lab-fixture';

const SEED = Number(process.env.CHAOS_SEED ?? 20261207);
const OUT = path.join(repoRoot(), 'test-output', 'chaos');
let cluster: LabChaosCluster | undefined;

describe('chaos run on the lab', () => {
  afterAll(async () => {
    await cluster?.restore();
  });

  it(`seed ${SEED}: no checker fails`, async () => {
    await ensureCluster();
    cluster = new LabChaosCluster(await lab());
    const r = await runChaos(cluster, { seed: SEED, durationMs: 60_000, faults: FAULT_KINDS, outDir: OUT, log: (l) => process.stderr.write(`[chaos] ${l}\n`) });
    process.stderr.write(`[chaos] report ${r.reportFile}\n`);
    expect(r.history.ops.length).toBeGreaterThan(100);
    expect(r.history.faults.length).toBeGreaterThan(0);
    const failed = r.results.filter((c) => c.verdict === 'fail');
    expect(
      failed.map((c) => `${c.name}: ${c.summary}\n${c.offending.slice(0, 10).map((o) => JSON.stringify(o)).join('\n')}`),
      `report: ${r.reportFile}`,
    ).toEqual([]);

    if (!haveChromium()) return;
    const browser = await launchBrowser();
    try {
      const { page, errors } = await openPage(browser, `file://${r.reportFile}`);
      expect(await page.getAttribute('body', 'data-rendered')).toBe(String(2 + NAMES.length));
      expect(await page.locator('svg.latency circle.op').count()).toBe(r.history.ops.length);
      expect(await page.locator('#checkers tbody tr.pass').count()).toBe(r.results.length);
      if (process.env.CHAOS_SCREENSHOT) await page.screenshot({ path: process.env.CHAOS_SCREENSHOT, fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
