// `node bench/profile-summary.mjs <file.cpuprofile | dir> [--top N] [--per X] [--match re] [--skip-ms T] [--inclusive re] [--each]`
//
// Sums the self time of a V8 CPU profile (node --cpu-prof) per function: name, file and line.
// With a directory, every .cpuprofile in it is summed (one row per function across them) unless
// --each is given. --per X divides each total by X (e.g. the socket reads the run made, to get
// µs per read); --match keeps functions whose name or URL matches a regular expression;
// --skip-ms T leaves out the first T ms of each profile (start-up: module loading, compiling).
// --inclusive re adds a table of inclusive time (self + callees) of the functions whose name
// matches, each counted once per sample however deep it recurses: e.g. 'onStreamRead|processImmediate'
// to see how much every socket read or check phase costs in all. Samples in which V8 was idle
// (node waiting in epoll, or in a system call outside JavaScript, such as libuv's read(2))
// are "(idle)": a server's system time mostly lands there.
import fs from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (n, d) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : d; };
const top = Number(opt('--top', 30));
const per = Number(opt('--per', 0));
const match = opt('--match', null);
const each = args.includes('--each');
const skipMs = Number(opt('--skip-ms', 0));
const inclusiveRe = opt('--inclusive', null);
const valued = new Set(['--top', '--per', '--match', '--skip-ms', '--inclusive']);
const inputs = args.filter((a, i) => !a.startsWith('--') && !valued.has(args[i - 1]));
if (inputs.length === 0) { console.error('usage: node bench/profile-summary.mjs <file.cpuprofile | dir> [--top N] [--per X] [--match re] [--each]'); process.exit(2); }

const files = inputs.flatMap((p) => (fs.statSync(p).isDirectory()
  ? fs.readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).sort().map((f) => path.join(p, f))
  : [p]));

/** Source maps of built files (dist/*.mjs.map), to name lib/ file:line next to dist's. */
const maps = new Map();
function original(file, line, column) {
  if (!maps.has(file)) {
    let sm = null;
    try { sm = new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8'))); } catch {}
    maps.set(file, sm);
  }
  const e = maps.get(file)?.findEntry(line, column);
  if (!e?.originalSource) return '';
  return ` (${e.originalSource.replace(/^.*?\/lib\//, 'lib/')}:${e.originalLine + 1})`;
}

/** Self time in µs per "name url:line" of one profile, and its total. */
function selfTimes(file) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map(); // node id → µs
  const incl = new Map(); // function name → µs (inclusive)
  const re = inclusiveRe ? new RegExp(inclusiveRe) : null;
  // timeDeltas[i] is the time before sample i; the time of sample i is attributed to the node
  // sampled (the usual convention: Chrome DevTools does the same).
  let t = prof.startTime;
  const from = prof.startTime + skipMs * 1000;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    if (t < from) continue;
    const dt = Math.max(0, prof.timeDeltas[i + 1] ?? 0);
    self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
    if (re) {
      const seen = new Set();
      for (let id = prof.samples[i]; id !== undefined; id = parent.get(id)) {
        const cf = byId.get(id).callFrame;
        const name = cf.functionName;
        if (name && re.test(name) && !seen.has(name)) { seen.add(name); incl.set(name, (incl.get(name) ?? 0) + dt); }
      }
    }
  }
  const out = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame;
    const url = cf.url ? cf.url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/') : '';
    const src = cf.url.startsWith('file://') && /\/dist\//.test(cf.url) ? original(cf.url.slice(7), cf.lineNumber, cf.columnNumber) : '';
    const key = `${cf.functionName || '(anonymous)'} ${url}${url ? `:${cf.lineNumber + 1}` : ''}${src}`;
    out.set(key, (out.get(key) ?? 0) + us);
    total += us;
  }
  return { out, total, incl, wall: prof.endTime - prof.startTime - skipMs * 1000 };
}

function print(label, out, total, wall, incl) {
  const rows = [...out].filter(([k]) => !match || new RegExp(match).test(k)).sort((a, b) => b[1] - a[1]).slice(0, top);
  const idle = out.get('(idle) ') ?? 0;
  console.log(`\n${label}: ${(wall / 1000).toFixed(0)} ms profiled, ${(total / 1000).toFixed(0)} ms sampled, ${((total - idle) / 1000).toFixed(0)} ms not idle${per ? `; per: ${per}` : ''}`);
  console.log(`| self ms | % of busy |${per ? ' µs per |' : ''} function (file:line) |`);
  console.log(`|---:|---:|${per ? '---:|' : ''}---|`);
  for (const [k, us] of rows) {
    console.log(`| ${(us / 1000).toFixed(1)} | ${k.startsWith('(idle)') ? '' : ((us / (total - idle)) * 100).toFixed(1)} |${per ? ` ${(us / per).toFixed(3)} |` : ''} ${k} |`);
  }
  if (incl?.size) {
    console.log(`\n| inclusive ms | % of busy |${per ? ' µs per |' : ''} function |`);
    console.log(`|---:|---:|${per ? '---:|' : ''}---|`);
    for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1])) {
      console.log(`| ${(us / 1000).toFixed(1)} | ${((us / (total - idle)) * 100).toFixed(1)} |${per ? ` ${(us / per).toFixed(3)} |` : ''} ${k} |`);
    }
  }
}

if (each) {
  for (const f of files) { const r = selfTimes(f); print(path.basename(f), r.out, r.total, r.wall, r.incl); }
} else {
  const sum = new Map();
  const incl = new Map();
  let total = 0, wall = 0;
  for (const f of files) {
    const r = selfTimes(f);
    for (const [k, v] of r.out) sum.set(k, (sum.get(k) ?? 0) + v);
    for (const [k, v] of r.incl) incl.set(k, (incl.get(k) ?? 0) + v);
    total += r.total; wall += r.wall;
  }
  print(`${files.length} profile(s)`, sum, total, wall, incl);
}
