// One self-contained HTML file per chaos run: fault bands per node, operation latency and outcome
// over time per node, throughput, the checker table and the seed that replays the run. Charts are
// inline SVG drawn here; a few lines of inline script add hover details. No external asset at all.
import type { CheckResult } from './checkers';
import type { FaultKind, History, OpRecord } from './history';
import { membershipModel } from './membership';
import { describeFault } from './schedule';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const FAULT_COLOURS: Record<FaultKind, string> = { partition: '#e6a23c', fence: '#d9534f', kill: '#9b59b6', 'corosync-restart': '#3498db' };
const W = 1000; // chart width in SVG units
const LEFT = 70;

function outcomeColour(o: OpRecord): string {
  if (o.outcome === 'unknown') return '#888';
  if (o.outcome === 'ok') return '#2e8b57';
  return o.errno === 'EACCES' ? '#f0ad4e' : '#c0392b';
}

function x(t: number, span: number): number {
  return LEFT + ((W - LEFT - 10) * Math.max(0, t)) / Math.max(1, span);
}

function axis(span: number, y: number): string {
  const step = span > 240_000 ? 60_000 : span > 60_000 ? 15_000 : 5_000;
  let s = `<line x1="${LEFT}" y1="${y}" x2="${W - 10}" y2="${y}" stroke="#999"/>`;
  for (let t = 0; t <= span; t += step)
    s += `<line x1="${x(t, span)}" y1="${y}" x2="${x(t, span)}" y2="${y + 4}" stroke="#999"/><text x="${x(t, span)}" y="${y + 15}" font-size="10" text-anchor="middle">${t / 1000}s</text>`;
  return s;
}

export function timelineSvg(h: History, span: number): string {
  const model = membershipModel(h);
  const rowH = 26;
  const nodes = h.meta.nodes;
  const height = nodes.length * rowH + 30;
  let body = '';
  nodes.forEach((n, i) => {
    const y = i * rowH + 4;
    body += `<text x="4" y="${y + 16}" font-size="12">${esc(n)}</text>`;
    // Background: the model's quorum state, sampled per change point.
    const pts = [0, ...model.changePoints.filter((c) => c < span), span];
    for (let k = 0; k + 1 < pts.length; k++) {
      const q = model.quorateAt(n, pts[k]!);
      body += `<rect x="${x(pts[k]!, span)}" y="${y}" width="${Math.max(0, x(pts[k + 1]!, span) - x(pts[k]!, span))}" height="${rowH - 6}" fill="${q ? '#eaf6ea' : '#fbeaea'}"/>`;
    }
    for (const f of h.faults) {
      if (!f.nodes.includes(n) && !(f.kind === 'partition')) continue;
      const end = f.end ?? span;
      const group = f.groups?.find((g) => g.includes(n));
      const label = f.kind === 'partition' ? `side ${group?.join(',') ?? '?'}` : f.kind;
      body += `<rect class="fault" data-tip="${esc(`#${f.id} ${describeFault(f)} ${(f.start / 1000).toFixed(1)}s–${(end / 1000).toFixed(1)}s${f.note ? ' (' + f.note + ')' : ''}`)}" x="${x(f.start, span)}" y="${y + 4}" width="${Math.max(2, x(end, span) - x(f.start, span))}" height="${rowH - 14}" fill="${FAULT_COLOURS[f.kind]}" opacity="${f.nodes.includes(n) ? 0.9 : 0.35}"><title>${esc(label)}</title></rect>`;
    }
  });
  return `<svg id="timeline" class="chart" viewBox="0 0 ${W} ${height}" width="100%">${body}${axis(span, nodes.length * rowH + 6)}</svg>`;
}

export function latencySvg(h: History, node: string, span: number): string {
  const ops = h.ops.filter((o) => o.node === node);
  const height = 140;
  const maxLat = Math.max(10, ...ops.map((o) => o.end - o.start));
  const logMax = Math.log10(maxLat + 1);
  const y = (lat: number): number => 110 - (100 * Math.log10(lat + 1)) / logMax;
  let dots = '';
  for (const o of ops)
    dots += `<circle class="op" cx="${x(o.start, span).toFixed(1)}" cy="${y(o.end - o.start).toFixed(1)}" r="2" fill="${outcomeColour(o)}" data-tip="${esc(`#${o.id} ${o.client} ${o.op} ${o.path} ${o.outcome}${o.errno ? ' ' + o.errno : ''} ${Math.round(o.end - o.start)} ms`)}"/>`;
  let grid = '';
  for (const ms of [1, 10, 100, 1000, 10000]) if (ms <= maxLat) grid += `<line x1="${LEFT}" x2="${W - 10}" y1="${y(ms)}" y2="${y(ms)}" stroke="#eee"/><text x="${LEFT - 4}" y="${y(ms) + 3}" font-size="9" text-anchor="end">${ms} ms</text>`;
  return `<svg class="chart latency" data-node="${esc(node)}" viewBox="0 0 ${W} ${height}" width="100%"><text x="4" y="14" font-size="12">${esc(node)}</text>${grid}${dots}${axis(span, 114)}</svg>`;
}

export function throughputSvg(h: History, span: number): string {
  const bucket = Math.max(1000, Math.ceil(span / 120 / 1000) * 1000);
  const n = Math.ceil(span / bucket) + 1;
  const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
  const series = h.meta.nodes.map((node) => {
    const counts = new Array<number>(n).fill(0);
    for (const o of h.ops) if (o.node === node && o.outcome === 'ok') counts[Math.floor(o.end / bucket)]! += 1000 / bucket;
    return counts;
  });
  const max = Math.max(1, ...series.flat());
  let lines = '';
  series.forEach((c, i) => {
    const pts = c.map((v, k) => `${x(k * bucket, span).toFixed(1)},${(110 - (100 * v) / max).toFixed(1)}`).join(' ');
    lines += `<polyline class="tput" fill="none" stroke="${palette[i % palette.length]}" stroke-width="1.5" points="${pts}"/>`;
    lines += `<text x="${W - 120}" y="${14 + i * 12}" font-size="10" fill="${palette[i % palette.length]}">${esc(h.meta.nodes[i]!)}</text>`;
  });
  const label = `<text x="${LEFT - 4}" y="14" font-size="9" text-anchor="end">${max.toFixed(1)}/s</text><text x="${LEFT - 4}" y="110" font-size="9" text-anchor="end">0</text>`;
  return `<svg id="throughput" class="chart" viewBox="0 0 ${W} 140" width="100%">${label}${lines}${axis(span, 114)}</svg>`;
}

function checkerTable(results: readonly CheckResult[]): string {
  const rows = results
    .map((r) => {
      const offending = r.offending.map((o) => `#${o.id} ${o.node}/${o.client} ${o.op} ${o.path}${o.to ? '→' + o.to : ''} ${o.outcome}${o.errno ? ' ' + o.errno : ''} [${Math.round(o.start)}–${Math.round(o.end)} ms]${o.read !== undefined ? ' read ' + JSON.stringify(o.read) : ''}`);
      const details = r.details ? Object.entries(r.details).map(([k, v]) => `${k}: ${v ?? '-'}`).join('; ') : '';
      return `<tr class="${r.verdict}"><td>${esc(r.name)}</td><td class="verdict">${r.verdict.toUpperCase()}</td><td>${esc(r.summary)}${details ? `<div class="details">${esc(details)}</div>` : ''}${
        offending.length ? `<details><summary>${r.offendingCount} offending</summary><pre>${esc(offending.join('\n'))}</pre></details>` : ''
      }</td><td>${r.forkCount}${r.forkOps.length ? `<details><summary>ops</summary><pre>${esc(r.forkOps.map((o) => `#${o.id} ${o.node} ${o.op} ${o.path}`).join('\n'))}</pre></details>` : ''}</td></tr>`;
    })
    .join('');
  return `<table id="checkers"><thead><tr><th>checker</th><th>verdict</th><th>what was seen</th><th>fork window</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export interface ReportInput {
  history: History;
  results: readonly CheckResult[];
  replayCommand: string;
}

export function renderReport({ history: h, results, replayCommand }: ReportInput): string {
  const span = Math.max(h.meta.durationMs, ...h.ops.map((o) => o.end), ...h.recoveries.map((r) => r.at ?? r.from));
  const counts = { ok: 0, fail: 0, unknown: 0 } as Record<string, number>;
  for (const o of h.ops) counts[o.outcome]!++;
  const failed = results.filter((r) => r.verdict === 'fail').length;
  const faults = h.faults.map((f) => `<li>#${f.id} ${(f.start / 1000).toFixed(1)}s–${f.end === null ? 'never' : (f.end / 1000).toFixed(1) + 's'}: ${esc(describeFault(f))}${f.note ? ` <i>(${esc(f.note)})</i>` : ''}${f.error ? ` <b>error: ${esc(f.error)}</b>` : ''}</li>`).join('');
  const legend = Object.entries(FAULT_COLOURS).map(([k, c]) => `<span class="chip" style="background:${c}"></span>${k}`).join(' ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pmxcfs-ts chaos run, seed ${h.meta.seed}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#222;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:24px}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}
tr.pass .verdict{color:#2e8b57;font-weight:bold}tr.fail .verdict{color:#c0392b;font-weight:bold}
.details{color:#555;font-size:12px}pre{white-space:pre-wrap;font-size:11px;margin:4px 0}
.chip{display:inline-block;width:10px;height:10px;margin:0 3px 0 10px}
#tip{position:fixed;background:#333;color:#fff;padding:3px 6px;font-size:12px;border-radius:3px;pointer-events:none;display:none}
code{background:#f3f3f3;padding:1px 4px}
</style></head><body>
<h1>pmxcfs-ts chaos run — ${failed === 0 ? 'all checkers pass' : `${failed} checker(s) FAIL`}</h1>
<p>seed <b id="seed">${h.meta.seed}</b>, ${h.meta.nodes.length} nodes (${esc(h.meta.nodes.join(', '))}), ${(h.meta.durationMs / 1000).toFixed(0)} s, ${h.meta.clientsPerNode} client(s) per node, faults ${esc(h.meta.faults.join(','))}; started ${esc(h.meta.startedAt)}.<br>
${h.ops.length} operations (${counts.ok} ok, ${counts.fail} failed, ${counts.unknown} unknown), ${h.faults.length} faults.<br>
Replay the same schedule: <code>${esc(replayCommand)}</code></p>
${h.meta.notes.length ? `<p><b>Adapter notes:</b> ${esc(h.meta.notes.join('; '))}</p>` : ''}
<h2>Checkers</h2>${checkerTable(results)}
<h2>Faults per node</h2><p>${legend}; background: green = quorate by the model, red = not.</p>${timelineSvg(h, span)}
<ol start="0">${faults}</ol>
<h2>Latency and outcome per node</h2><p><span class="chip" style="background:#2e8b57"></span>ok<span class="chip" style="background:#f0ad4e"></span>EACCES<span class="chip" style="background:#c0392b"></span>other errno<span class="chip" style="background:#888"></span>unknown (log scale)</p>
${h.meta.nodes.map((n) => latencySvg(h, n, span)).join('\n')}
<h2>Throughput (acknowledged ops per second)</h2>${throughputSvg(h, span)}
<div id="tip"></div>
<script>
(function(){var tip=document.getElementById('tip');
document.addEventListener('mousemove',function(e){var t=e.target&&e.target.getAttribute&&e.target.getAttribute('data-tip');
if(t){tip.textContent=t;tip.style.display='block';tip.style.left=(e.clientX+12)+'px';tip.style.top=(e.clientY+12)+'px';}else{tip.style.display='none';}});
document.body.setAttribute('data-rendered',String(document.querySelectorAll('svg.chart').length));})();
</script>
</body></html>
`;
}
