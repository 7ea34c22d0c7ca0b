// One lab node's container, created and started through testcontainers (its GenericContainer: name,
// hostname, labels, environment, capabilities, files copied in before start, a log wait strategy),
// with the three things its builder has no method for set on the create options it exposes to
// subclasses: the FUSE device, the named volume for config.db and the fixed address on the cluster
// network. Ryuk is off (no registry image can be pulled here): clusters are removed by label instead.
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { RT_PERIOD_US } from './realtime';

// testcontainers reads these when it starts a container; set defaults unless the user chose.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';

export interface NodeContainerSpec {
  image: string;
  containerName: string;
  hostname: string;
  network: string;
  ip: string;
  volume: string;
  labels: Record<string, string>;
  env: Record<string, string>;
  /** Files placed in the container before it starts (the corosync seed). */
  files: Array<{ path: string; content: string | Buffer; mode?: number }>;
  /** The log line that says the entrypoint got going. */
  readyLog: RegExp;
  startupTimeoutMs: number;
  /** corosync at SCHED_RR as on a host (lab/realtime.ts): the capability and real-time budget. */
  realtime?: { capAdd: string[]; runtimeUs: number | null };
}

class NodeContainer extends GenericContainer {
  constructor(spec: NodeContainerSpec) {
    super(spec.image);
    this.withName(spec.containerName)
      .withHostname(spec.hostname)
      .withLabels(spec.labels)
      .withEnvironment(spec.env)
      // SYS_ADMIN + /dev/fuse for the FUSE mount; NET_ADMIN for group partitions (routes).
      .withAddedCapabilities('SYS_ADMIN', 'NET_ADMIN')
      .withNetworkMode(spec.network)
      .withCopyContentToContainer(spec.files.map((f) => ({ content: f.content, target: f.path, mode: f.mode })))
      .withWaitStrategy(Wait.forLogMessage(spec.readyLog))
      .withStartupTimeout(spec.startupTimeoutMs)
      .withPullPolicy({ shouldPull: () => false });
    this.hostConfig.Devices = [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }];
    this.hostConfig.Mounts = [{ Type: 'volume', Source: spec.volume, Target: '/var/lib/pve-cluster' }];
    this.hostConfig.RestartPolicy = { Name: 'no' };
    if (spec.realtime) {
      this.withAddedCapabilities(...spec.realtime.capAdd);
      if (spec.realtime.runtimeUs !== null) {
        this.hostConfig.CpuRealtimePeriod = RT_PERIOD_US;
        this.hostConfig.CpuRealtimeRuntime = spec.realtime.runtimeUs;
      }
    }
    this.createOpts.StopTimeout = 20;
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [spec.network]: { IPAMConfig: { IPv4Address: spec.ip } } } };
  }
}

/** Create and start the container; resolves once its entrypoint logged `readyLog`. */
export async function startNodeContainer(spec: NodeContainerSpec): Promise<StartedTestContainer> {
  return new NodeContainer(spec).start();
}
