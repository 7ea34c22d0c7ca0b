// `lab chaos` arguments: --nodes N --duration S --seed X --faults a,b --clients C --think MS --out DIR --plan
import { FAULT_KINDS, type FaultKind } from './history';

export interface ChaosArgs {
  nodes: number;
  durationS: number;
  seed: number;
  faults: FaultKind[];
  clients: number;
  thinkMs: number;
  out: string;
  planOnly: boolean; // print the fault schedule and stop (a replay check needs no cluster)
}

export class ChaosArgsError extends Error {
  override name = 'ChaosArgsError';
}

export function parseChaosArgs(argv: readonly string[], defaults: { out: string; seed: number }): ChaosArgs {
  const a: ChaosArgs = { nodes: 3, durationS: 60, seed: defaults.seed, faults: [...FAULT_KINDS], clients: 1, thinkMs: 20, out: defaults.out, planOnly: false };
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new ChaosArgsError(`${flag} needs an integer >= ${min} (got ${v ?? 'nothing'})`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const v = argv[i + 1];
    switch (flag) {
      case '--nodes': a.nodes = int(flag, v, 2); i++; break;
      case '--duration': a.durationS = int(flag, v, 10); i++; break;
      case '--seed': a.seed = int(flag, v, 0); i++; break;
      case '--clients': a.clients = int(flag, v, 1); i++; break;
      case '--think': a.thinkMs = int(flag, v, 0); i++; break;
      case '--plan': a.planOnly = true; break;
      case '--out': if (!v) throw new ChaosArgsError('--out needs a directory'); a.out = v; i++; break;
      case '--faults': {
        if (!v) throw new ChaosArgsError(`--faults needs a list out of ${FAULT_KINDS.join(',')}`);
        const list = v.split(',').filter(Boolean);
        const bad = list.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
        if (bad.length) throw new ChaosArgsError(`unknown fault kind(s) ${bad.join(',')}: choose from ${FAULT_KINDS.join(',')}`);
        a.faults = list as FaultKind[];
        i++;
        break;
      }
      default:
        throw new ChaosArgsError(`unknown chaos option "${flag}"`);
    }
  }
  return a;
}
