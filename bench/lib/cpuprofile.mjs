// Self time by function from a V8 .cpuprofile (node --cpu-prof): `node bench/lib/cpuprofile.mjs FILE [N]`.
import { readFileSync } from 'node:fs';

const [file, count = '30'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
const deltas = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]);
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*\/(node_modules\/)/, '$1').replace(/^file:\/\/.*\/wt\/[^/]+\//, '');
  const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  selfUs.set(key, (selfUs.get(key) ?? 0) + (deltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idle = [...selfUs].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
console.log(`total ${(total / 1e6).toFixed(2)} s, busy ${((total - idle) / 1e6).toFixed(2)} s`);
for (const [key, us] of [...selfUs].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
  console.log(`${((us / (total - idle)) * 100).toFixed(1).padStart(5)} %  ${key}`);
}

// `CALLERS=name`: who calls functions whose name contains it (self time attributed to parents).
if (process.env.CALLERS) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const byParent = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    if (!node.callFrame.functionName.includes(process.env.CALLERS)) continue;
    const chain = [];
    for (
      let p = parent.get(node.id);
      p && chain.length < (Number(process.env.DEPTH) || 6);
      p = parent.get(p.id)
    )
      chain.push(p.callFrame.functionName || '(anon)');
    const key = chain.join(' < ');
    byParent.set(key, (byParent.get(key) ?? 0) + (deltas[i] ?? 0));
  }
  for (const [key, us] of [...byParent].sort((a, b) => b[1] - a[1]).slice(0, 10))
    console.log(`${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
}

// `INCLUSIVE=1`: time with each function on the stack (self + callees), top entries.
if (process.env.INCLUSIVE) {
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const incl = new Map();
  const frameKey = (n) =>
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules\/)/, '$1').replace(/^file:\/\/.*\/wt\/[^/]+\//, '')}:${n.callFrame.lineNumber + 1}`;
  for (let i = 0; i < profile.samples.length; i++) {
    const seen = new Set();
    for (let n = byId.get(profile.samples[i]); n; n = parent.get(n.id)) {
      const key = frameKey(n);
      if (seen.has(key)) continue;
      seen.add(key);
      incl.set(key, (incl.get(key) ?? 0) + (deltas[i] ?? 0));
    }
  }
  for (const [key, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.INCLUSIVE) || 40))
    console.log(`${((us / (total - idle)) * 100).toFixed(1).padStart(5)} %  ${key}`);
}
