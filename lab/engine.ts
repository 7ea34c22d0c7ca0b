// Host preparation for the lab (the CLI's `up` and the project's own tests): apt packages, a running
// Docker engine and the offline base image. Engine calls go through dockerode.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { engineAnswers, imageExists } from './dockerode-client';
import { haveProgram, run, runChecked } from './run';
import { BASE_IMAGE, type LabPaths } from './topology';
import { sleep } from './wait';

export type Log = (line: string) => void;

const HOST_PACKAGES: ReadonlyArray<[program: string, aptPackage: string]> = [
  ['dockerd', 'docker.io'],
  ['debootstrap', 'debootstrap'],
];

/** apt-get install whatever of docker.io, debootstrap is missing. */
export async function ensureHostPackages(log: Log): Promise<void> {
  const missing: string[] = [];
  for (const [prog, pkg] of HOST_PACKAGES) {
    const found = (await haveProgram(prog)) || fs.existsSync(`/usr/sbin/${prog}`);
    if (!found) missing.push(pkg);
  }
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runChecked('apt-get', ['update'], { env, timeoutMs: 600_000 });
  await runChecked('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env, timeoutMs: 1_200_000 });
}

/**
 * Start dockerd in the background if no engine answers (there is no systemd here). The engine is
 * left running afterwards: it is shared with everyone on the machine.
 */
export async function ensureEngine(log: Log, stateDir: string): Promise<void> {
  if (await engineAnswers()) return;
  const dockerd = fs.existsSync('/usr/sbin/dockerd') ? '/usr/sbin/dockerd' : 'dockerd';
  fs.mkdirSync(stateDir, { recursive: true });
  const logFile = path.join(stateDir, 'dockerd.log');
  log(`starting ${dockerd} in the background (log: ${logFile})`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(dockerd, [], { detached: true, stdio: ['ignore', out, out] });
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  child.on('error', () => (exited = 127));
  child.unref();
  fs.closeSync(out);
  for (let i = 0; i < 60; i++) {
    if (exited !== null) break;
    if (await engineAnswers()) {
      log(`docker engine is up (dockerd pid ${child.pid})`);
      return;
    }
    await sleep(1000);
  }
  const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n') : '';
  throw new Error(
    `the Docker engine did not start${exited !== null ? ` (dockerd exited with ${exited})` : ' within 60 s'}.\n` +
      `Last lines of ${logFile}:\n${tail}`,
  );
}

/** Make debian:bookworm-slim with debootstrap when it is missing (no registry is reachable). */
export async function ensureBaseImage(p: LabPaths, log: Log): Promise<void> {
  if (await imageExists(BASE_IMAGE)) return;
  log(`base image ${BASE_IMAGE} is missing: bootstrapping it (docker/make-base-image.sh)`);
  const r = await run('sh', [p.makeBaseImage, BASE_IMAGE], {
    timeoutMs: 1_200_000,
    onOutput: (chunk) => chunk.split('\n').filter(Boolean).forEach((l) => log(`  ${l}`)),
  });
  if (r.code !== 0) throw new Error(`making the base image failed (status ${r.code})`);
}

/** Packages, engine and base image: what a cluster needs on a fresh Debian 12 host. */
export async function prepareHost(p: LabPaths, log: Log): Promise<void> {
  await ensureHostPackages(log);
  await ensureEngine(log, p.stateDir);
  await ensureBaseImage(p, log);
}
