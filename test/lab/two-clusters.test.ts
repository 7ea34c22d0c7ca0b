// Two test processes start a cluster each at the same moment and run the partition scenario
// (test/lab/partition-scenario.ts): both pass, on different names, networks and subnets, and each
// leaves nothing behind.
import { spawn } from 'child_process';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { listClusters } from '../../lab/cluster';
import { ensureNodeImage } from '../../lab/node-image';

const SCRIPT = path.resolve(__dirname, '../../dist/test/lab/partition-scenario.js');

function runScenario(image: string): Promise<{ code: number; result: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT, image], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      let result: Record<string, unknown>;
      try {
        result = JSON.parse(line) as Record<string, unknown>;
      } catch {
        result = { ok: false, output: out };
      }
      resolve({ code: code ?? 1, result });
    });
  });
}

describe('two clusters at once', () => {
  it('two processes each start a cluster at the same time and both pass the partition scenario', async () => {
    const image = await ensureNodeImage(); // built once here, so the two processes do not both build it
    const [a, b] = await Promise.all([runScenario(image), runScenario(image)]);
    console.log(`two clusters: ${JSON.stringify(a.result)} | ${JSON.stringify(b.result)}`);
    for (const r of [a, b]) {
      expect(r.result).toMatchObject({ ok: true, cutOff: 'EACCES' });
      expect(r.code).toBe(0);
    }
    expect(a.result.name).not.toBe(b.result.name);
    expect(a.result.subnet).not.toBe(b.result.subnet);
    const left = (await listClusters()).filter((c) => c.name === a.result.name || c.name === b.result.name);
    expect(left).toEqual([]);
  });
});
