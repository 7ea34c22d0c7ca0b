// Names and file locations shared by the lab's parts: node names, the base image, the repository.
import * as path from 'path';

export interface LabNode {
  name: string; // hostname = corosync node name
  nodeid: number;
}

export const BASE_IMAGE = 'debian:bookworm-slim';

/** nodeN has nodeid N. */
export function labNode(i: number): LabNode {
  return { name: `node${i}`, nodeid: i };
}

/** The three nodes a default cluster starts with, and the fourth that `add` joins. */
export const BASE_NODES: readonly LabNode[] = [1, 2, 3].map(labNode);
export const ALL_NODES: readonly LabNode[] = [1, 2, 3, 4].map(labNode);
export const EXTRA_NODE: LabNode = ALL_NODES[3]!;

export function nodeByName(name: string): LabNode | undefined {
  const m = /^node([1-9]\d?)$/.exec(name);
  return m ? labNode(Number(m[1])) : undefined;
}

/** The repository root: dist/lab/x.js and lab/x.ts both sit two levels under it (or one). */
export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    if (path.basename(dir) === 'lab') {
      const up = path.dirname(dir);
      return path.basename(up) === 'dist' ? path.dirname(up) : up;
    }
    dir = path.dirname(dir);
  }
  return process.cwd();
}

export interface LabPaths {
  root: string;
  stateDir: string; // .lab (gitignored): dockerd log, staged build contexts
  contextDir: string; // .lab/context: the staged docker build context
  dockerfile: string;
  entrypoint: string;
  makeBaseImage: string;
}

export function labPaths(root = repoRoot()): LabPaths {
  const stateDir = path.join(root, '.lab');
  return {
    root,
    stateDir,
    contextDir: path.join(stateDir, 'context'),
    dockerfile: path.join(root, 'docker', 'Dockerfile'),
    entrypoint: path.join(root, 'docker', 'entrypoint.sh'),
    makeBaseImage: path.join(root, 'docker', 'make-base-image.sh'),
  };
}
