// The dashboard page: one HTML document with its own inline script and SVG, no external asset.
// It listens to /api/events (server-sent events) and redraws on every state.

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderDashboardPage(nodes: readonly string[]): string {
  const groupPickers = nodes
    .map((n) => `<label>${esc(n)} <select data-node="${esc(n)}" class="side"><option>A</option><option>B</option><option>C</option></select></label>`)
    .join(' ');
  const nodeButtons = nodes
    .map((n) => `<span class="nb">${esc(n)} <button data-act="fence" data-node="${esc(n)}">fence</button><button data-act="start" data-node="${esc(n)}">start</button></span>`)
    .join(' ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pmxcfs-ts lab</title><link rel="icon" href="data:,">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px;margin:0 0 8px}
#wrap{display:flex;gap:16px;flex-wrap:wrap}
.panel{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:320px}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #eee;font-size:13px}
.quorate{color:#2e8b57;font-weight:bold}.readonly{color:#d98200;font-weight:bold}.down{color:#c0392b;font-weight:bold}
button{margin:2px}#msg{color:#555;font-size:12px;min-height:16px}
.nb{display:inline-block;margin-right:10px}
#log td{font-family:monospace;font-size:12px}
</style></head><body>
<h1>pmxcfs-ts lab <span id="updated" style="font-weight:normal;font-size:12px;color:#777"></span></h1>
<div id="wrap">
<div class="panel"><svg id="cluster" viewBox="0 0 420 340" width="420" height="340"></svg>
<div id="groups"></div></div>
<div class="panel"><table id="nodes"><thead><tr><th>node</th><th>state</th><th>corosync members</th><th>DFSM</th><th>db version</th></tr></thead><tbody></tbody></table>
<h3>Actions</h3>
<div>partition: ${groupPickers} <button id="partition">partition</button> <button id="heal">heal</button></div>
<div>${nodeButtons}</div><div id="msg"></div>
<h3>Locks</h3><table id="locks"><tbody></tbody></table></div>
<div class="panel"><h3 style="margin-top:0">Writes per second (db version growth)</h3><svg id="rate" viewBox="0 0 400 120" width="400" height="120"></svg>
<div id="chaos"></div></div>
<div class="panel" style="flex-basis:100%"><h3 style="margin-top:0">Cluster log (newest first)</h3><table id="log"><tbody></tbody></table></div>
</div>
<script>
(function(){
'use strict';
var NS='http://www.w3.org/2000/svg';
var seen={}; // node -> state -> how many updates showed it (tests read it from body[data-seen])
window.resetSeen=function(){seen={};};
function el(name, attrs, text){var e=document.createElementNS(NS,name);for(var k in attrs)e.setAttribute(k,attrs[k]);if(text!==undefined)e.textContent=text;return e;}
function td(tr, text, cls){var c=document.createElement('td');c.textContent=text;if(cls)c.className=cls;tr.appendChild(c);return c;}
function stateOf(n){if(!n.running)return['stopped','down'];if(!n.answering)return['not answering','down'];if(!n.mounted||!n.daemon)return['daemon down','down'];return n.daemon.quorate?['quorate','quorate']:['read-only','readonly'];}
function colour(cls){return cls==='quorate'?'#2e8b57':cls==='readonly'?'#f0ad4e':'#c0392b';}
function draw(s){
  document.getElementById('updated').textContent='updated '+new Date(s.at).toLocaleTimeString();
  var svg=document.getElementById('cluster');while(svg.firstChild)svg.removeChild(svg.firstChild);
  var n=s.nodes.length,pos={};
  s.nodes.forEach(function(x,i){var a=-Math.PI/2+2*Math.PI*i/n;pos[x.node]=[210+130*Math.cos(a),165+120*Math.sin(a)];});
  s.nodes.forEach(function(a){s.nodes.forEach(function(b){
    if(a.node<b.node&&a.members.indexOf(b.node)>=0&&b.members.indexOf(a.node)>=0)
      svg.appendChild(el('line',{x1:pos[a.node][0],y1:pos[a.node][1],x2:pos[b.node][0],y2:pos[b.node][1],stroke:'#7a9',"stroke-width":3,"class":'link'}));});});
  s.nodes.forEach(function(x){var st=stateOf(x),p=pos[x.node];
    var g=el('g',{"class":'node','data-node':x.node,'data-state':st[1]});
    g.appendChild(el('circle',{cx:p[0],cy:p[1],r:34,fill:colour(st[1]),stroke:'#333'}));
    g.appendChild(el('text',{x:p[0],y:p[1]-2,"text-anchor":'middle',"font-size":13,fill:'#fff',"font-weight":'bold'},x.node));
    g.appendChild(el('text',{x:p[0],y:p[1]+14,"text-anchor":'middle',"font-size":10,fill:'#fff'},st[0]));
    svg.appendChild(g);});
  document.getElementById('groups').textContent='who sees whom: '+(s.groups.length?s.groups.map(function(g){return '{'+g.join(', ')+'}';}).join('  '):'nobody')+' — quorate: '+(s.quorateNodes.join(', ')||'none');
  var tb=document.querySelector('#nodes tbody');tb.innerHTML='';
  s.nodes.forEach(function(x){var tr=document.createElement('tr'),st=stateOf(x);tr.setAttribute('data-node',x.node);
    td(tr,x.node);td(tr,st[0],st[1]).className+=' state';td(tr,x.members.join(',')||'-');td(tr,x.daemon&&x.daemon.dcdbMode||'-');td(tr,x.daemon?String(x.daemon.version):'-');tb.appendChild(tr);});
  var lk=document.querySelector('#locks tbody');lk.innerHTML='';var seen={};
  s.nodes.forEach(function(x){(x.daemon&&x.daemon.locks||[]).forEach(function(l){if(seen[l.name])return;seen[l.name]=1;var tr=document.createElement('tr');td(tr,l.name);td(tr,'held by nodeid '+l.writer);td(tr,'age '+l.age+' s');lk.appendChild(tr);});});
  if(!lk.firstChild){var tr=document.createElement('tr');td(tr,'no locks');lk.appendChild(tr);}
  var r=document.getElementById('rate');while(r.firstChild)r.removeChild(r.firstChild);
  var vals=s.stats.map(function(v){return v.writesPerSec||0;}),max=Math.max.apply(null,[1].concat(vals));
  r.appendChild(el('polyline',{fill:'none',stroke:'#1f77b4',"stroke-width":2,points:vals.map(function(v,i){return (i*400/120).toFixed(1)+','+(110-100*v/max).toFixed(1);}).join(' ')}));
  r.appendChild(el('text',{x:2,y:12,"font-size":10},'max '+max.toFixed(1)+'/s, now '+(vals.length?vals[vals.length-1].toFixed(1):'-')+'/s'));
  var last=s.stats[s.stats.length-1],c=document.getElementById('chaos');
  c.textContent=last&&last.chaos?('chaos run: '+last.chaos.opsPerSec.toFixed(1)+' ops/s, p50 '+(last.chaos.p50Ms===null?'-':last.chaos.p50Ms.toFixed(0))+' ms, p99 '+(last.chaos.p99Ms===null?'-':last.chaos.p99Ms.toFixed(0))+' ms, errors '+last.chaos.errorsPerSec.toFixed(1)+'/s'):'no chaos run going';
  var lg=document.querySelector('#log tbody');lg.innerHTML='';
  s.clusterLog.forEach(function(e){var tr=document.createElement('tr');td(tr,new Date(e.time*1000).toLocaleTimeString());td(tr,e.node);td(tr,e.tag);td(tr,e.msg);lg.appendChild(tr);});
  s.nodes.forEach(function(x){var k=stateOf(x)[1];seen[x.node]=seen[x.node]||{};seen[x.node][k]=(seen[x.node][k]||0)+1;});
  document.body.setAttribute('data-seen',JSON.stringify(seen));
  document.body.setAttribute('data-updates',String(Number(document.body.getAttribute('data-updates')||0)+1));
}
function post(path,body){var m=document.getElementById('msg');m.textContent=path+' ...';
  return fetch('/api/'+path,{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(body||{})}).then(function(r){return r.json();}).then(function(j){m.textContent=j.ok?j.msg:'error: '+j.error;});}
document.getElementById('partition').onclick=function(){var sides={};
  Array.prototype.forEach.call(document.querySelectorAll('select.side'),function(s){(sides[s.value]=sides[s.value]||[]).push(s.getAttribute('data-node'));});
  post('partition',{groups:Object.keys(sides).sort().map(function(k){return sides[k];})});};
document.getElementById('heal').onclick=function(){post('heal');};
Array.prototype.forEach.call(document.querySelectorAll('button[data-act]'),function(b){b.onclick=function(){post(b.getAttribute('data-act'),{node:b.getAttribute('data-node')});};});
var es=new EventSource('/api/events');es.onmessage=function(e){draw(JSON.parse(e.data));};
})();
</script>
</body></html>
`;
}
