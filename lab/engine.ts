// Host preparation for the lab: apt packages, a running Docker engine, the base and node images.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { docker, engineRunning, imageExists } from './docker';
import { haveProgram, run, runChecked } from './run';
import { stageContext } from './stage-context';
import { BASE_IMAGE, IMAGE, type LabPaths } from './topology';
import { sleep } from './wait';

export type Log = (line: string) => void;

const HOST_PACKAGES: ReadonlyArray<[program: string, aptPackage: string]> = [
  ['dockerd', 'docker.io'],
  ['docker-compose', 'docker-compose'],
  ['debootstrap', 'debootstrap'],
];

/** apt-get install whatever of docker.io, docker-compose, debootstrap is missing. */
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
  if (await engineRunning()) return;
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
    if (await engineRunning()) {
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

/**
 * Stage the context and build the node image, printing docker's step lines. The classic builder
 * is used (DOCKER_BUILDKIT=0): it works with engine 20.10 and newer clients alike and its layer
 * cache makes a rebuild with unchanged inputs take seconds.
 */
export async function buildNodeImage(p: LabPaths, log: Log): Promise<void> {
  await stageContext(p, log);
  log(`building ${IMAGE}`);
  const env = { ...process.env, DOCKER_BUILDKIT: '0' };
  let pending = '';
  const r = await docker(['build', '-t', IMAGE, '-f', path.join(p.contextDir, 'Dockerfile'), p.contextDir], {
    env,
    timeoutMs: 1_800_000,
    onOutput: (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) if (/^Step \d+\/\d+|^Successfully|^ ---> Using cache|error/i.test(l)) log(`  ${l.trim()}`);
    },
  });
  if (r.code !== 0) {
    const tail = (r.stdout + r.stderr).trim().split('\n').slice(-20).join('\n');
    throw new Error(`docker build of ${IMAGE} failed (status ${r.code}):\n${tail}`);
  }
}

/**
 * Remove earlier builds of the node image that a rebuild left untagged (identified by the label the
 * Dockerfile sets). An image still used by a container is refused by docker and kept.
 */
export async function removeStaleNodeImages(): Promise<number> {
  const r = await docker(['images', '-q', '--filter', 'dangling=true', '--filter', 'label=org.pmxcfs-ts.lab=node'], {
    timeoutMs: 30_000,
  });
  let removed = 0;
  for (const id of new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean))) {
    if ((await docker(['rmi', id], { timeoutMs: 60_000 })).code === 0) removed++;
  }
  return removed;
}

/** Everything `lab up` needs before compose: packages, engine, base image, node image. */
export async function prepareHost(p: LabPaths, log: Log, opts: { build?: boolean } = {}): Promise<void> {
  await ensureHostPackages(log);
  await ensureEngine(log, p.stateDir);
  await ensureBaseImage(p, log);
  if (opts.build !== false || !(await imageExists(IMAGE))) await buildNodeImage(p, log);
}
