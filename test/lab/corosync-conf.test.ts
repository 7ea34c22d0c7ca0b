// Scenario 7, corosync.conf distribution (reference §9): a new version written to
// /etc/pve/corosync.conf (as PVE tooling does: corosync.conf.new, then rename) is written by every
// node's daemon to /etc/corosync/corosync.conf, and corosync reloads it (cmap shows the new
// totem.config_version on every node). Replaced or added nodes take their corosync.conf from a running
// node (lab/cluster.ts), so nothing on the host has to follow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigVersion } from '../../lab/corosync-conf';
import { waitUntil } from '../../lab/wait';
import { NAMES, expectConverged, shOk, ensureCluster } from './cluster-checks';
import { lab, shIn } from './lab-fixture';

interface HostView {
  conf: string;
  mode: string;
  cmapVersion: number | null;
}

async function hostView(node: string): Promise<HostView> {
  const r = await shIn(node, "cat /etc/corosync/corosync.conf; echo '@@'; stat -c %a /etc/corosync/corosync.conf; corosync-cmapctl -g totem.config_version");
  const [conf, rest] = r.stdout.split('@@\n');
  const [mode, cmap] = (rest ?? '').split('\n');
  const m = /=\s*(\d+)/.exec(cmap ?? '');
  return { conf: conf ?? '', mode: mode ?? '', cmapVersion: m ? Number(m[1]) : null };
}

describe('corosync.conf through /etc/pve', () => {
  beforeAll(async () => {
    await ensureCluster();
  });

  afterAll(async () => {
    await (await lab()).heal();
  });

  it('config_version + 1 written on node2 lands in /etc/corosync on every node and corosync reloads it', async () => {
    const current = await shOk('node1', 'cat /etc/pve/corosync.conf');
    const version = parseConfigVersion(current);
    expect(version).toBeGreaterThan(0);
    const next = current.replace(/config_version:\s*\d+/, `config_version: ${version + 1}`);
    expect(parseConfigVersion(next)).toBe(version + 1);

    const w = await shIn('node2', 'cat > /etc/pve/corosync.conf.new && mv /etc/pve/corosync.conf.new /etc/pve/corosync.conf', {
      input: next,
    });
    expect(w.code, w.stderr).toBe(0);

    let views: HostView[] = [];
    await waitUntil(
      `config_version ${version + 1} in /etc/corosync/corosync.conf and in corosync on every node`,
      async () => (views = await Promise.all(NAMES.map(hostView))),
      (all) => all.every((v) => v.conf === next && v.cmapVersion === version + 1),
      { timeoutMs: 60_000, intervalMs: 500 },
    ).catch(() => undefined);
    views.forEach((v, i) => expect(v, NAMES[i]).toEqual({ conf: next, mode: '644', cmapVersion: version + 1 }));

    // The cluster is still whole and every node has the same tree (corosync.conf included).
    await (await lab()).waitHealthy({ timeoutMs: 60_000 });
    await expectConverged();
    for (const n of NAMES) expect(await shOk(n, 'cat /etc/pve/corosync.conf'), n).toBe(next);
  });
});
