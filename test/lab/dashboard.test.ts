// The live lab page in a real headless chromium: three quorate nodes; a partition made through the
// page's own controls turns the cut node read-only on the page; heal through the page brings it
// back. Screenshots go where DASHBOARD_SCREENSHOT_DIR says (docs/img for the README).
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { LabChaosCluster } from '../../lab/chaos/lab-cluster';
import { startDashboard, type Dashboard } from '../../lab/dashboard/server';
import { haveChromium, launchBrowser, openPage } from '../support/browser';
import { ensureCluster, NAMES, waitDaemonQuorate } from './cluster-checks';
import { lab } from './lab-fixture';

const shots = process.env.DASHBOARD_SCREENSHOT_DIR;
let cluster: LabChaosCluster | undefined;

/** Wait until the page draws every named node in the given state (the page updates by itself). */
async function waitDrawn(page: Page, nodes: readonly string[], state: string): Promise<void> {
  const cond = nodes.map((n) => `document.querySelector('#cluster g.node[data-node="${n}"]')?.getAttribute('data-state') === '${state}'`).join(' && ');
  await page.waitForFunction(cond, undefined, { timeout: 60_000 });
}

describe.skipIf(!haveChromium())('lab dashboard in a browser', () => {
  let browser: Browser;
  let dash: Dashboard;
  beforeAll(async () => {
    await ensureCluster();
    const c = await lab();
    cluster = new LabChaosCluster(c);
    dash = await startDashboard(cluster, { port: 0, clusterName: c.name });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    await cluster?.heal();
  });

  it('shows three quorate nodes; a partition from the page turns node3 read-only there, heal brings it back', async () => {
    expect(new URL(dash.url).hostname).toBe('127.0.0.1');
    const { page, errors } = await openPage(browser, dash.url);
    // Three quorate nodes, all seeing each other.
    await waitDrawn(page, NAMES, 'quorate');
    expect(await page.locator('#cluster line.link').count()).toBe(3);
    if (shots) await page.screenshot({ path: path.join(shots, 'dashboard-quorate.png') });

    // node3 on side B, the others on A, through the page's controls.
    await page.evaluate('resetSeen()');
    await page.selectOption('select.side[data-node="node3"]', 'B');
    const cutAt = Date.now();
    await page.click('#partition');
    await waitDrawn(page, ['node3'], 'readonly');
    process.stderr.write(`[dashboard] node3 read-only on the page ${((Date.now() - cutAt) / 1000).toFixed(1)} s after the click\n`);
    // The settled picture: node1 and node2 quorate and linked, node3 read-only on its own.
    await page.waitForFunction(
      `['node1','node2'].every((n) => document.querySelector('#cluster g.node[data-node="' + n + '"]').getAttribute('data-state') === 'quorate') && ` +
        `document.querySelector('#cluster g.node[data-node="node3"]').getAttribute('data-state') === 'readonly' && document.querySelectorAll('#cluster line.link').length === 1`,
      undefined,
      { timeout: 60_000 },
    );
    // What the page drew for every node since the click (a majority node drawn read-only would be
    // a finding: it keeps 2 of 3 votes).
    process.stderr.write(`[dashboard] states drawn since the click: ${await page.getAttribute('body', 'data-seen')}\n`);
    expect(await page.textContent('#groups')).toContain('{node1, node2}');
    if (shots) await page.screenshot({ path: path.join(shots, 'dashboard-partition.png') });

    await page.click('#heal');
    await waitDrawn(page, NAMES, 'quorate');
    await waitDaemonQuorate('node3', true);
    expect(errors).toEqual([]);
  });
});
