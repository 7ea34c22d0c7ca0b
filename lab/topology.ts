// The lab's fixed shape: compose project, network, addresses, node names and ids, file locations.
import * as path from 'path';

export interface LabNode {
  name: string; // container name = hostname = corosync node name
  nodeid: number;
  ip: string;
}

export const PROJECT = 'pmxcfs-lab'; // compose project name: everything the lab owns carries it
export const NETWORK = 'pmxcfs-lab'; // docker network name (compose.yaml networks.lab.name)
export const SUBNET = '172.30.213.0/24';
export const IMAGE = 'pmxcfs-ts-node:lab';
export const BASE_IMAGE = 'debian:bookworm-slim';
export const CLUSTER_NAME = 'pmxcfs-lab';

/** node1..node3 form the lab; node4 is the one `lab add` joins. */
export const ALL_NODES: readonly LabNode[] = [1, 2, 3, 4].map((i) => ({
  name: `node${i}`,
  nodeid: i,
  ip: `172.30.213.${10 + i}`,
}));
export const BASE_NODES: readonly LabNode[] = ALL_NODES.slice(0, 3);
export const EXTRA_NODE: LabNode = ALL_NODES[3]!;

export function nodeByName(name: string): LabNode | undefined {
  return ALL_NODES.find((n) => n.name === name);
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
  composeFile: string;
  stateDir: string; // .lab (gitignored)
  seedDir: string; // .lab/corosync: corosync.conf + authkey, bind-mounted read-only into nodes
  contextDir: string; // .lab/context: the staged docker build context
  dockerfile: string;
  entrypoint: string;
  makeBaseImage: string;
}

export function labPaths(root = repoRoot()): LabPaths {
  const stateDir = path.join(root, '.lab');
  return {
    root,
    composeFile: path.join(root, 'compose.yaml'),
    stateDir,
    seedDir: path.join(stateDir, 'corosync'),
    contextDir: path.join(stateDir, 'context'),
    dockerfile: path.join(root, 'docker', 'Dockerfile'),
    entrypoint: path.join(root, 'docker', 'entrypoint.sh'),
    makeBaseImage: path.join(root, 'docker', 'make-base-image.sh'),
  };
}
