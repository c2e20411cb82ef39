// `npm run soak [-- <probe>…] [--write] [--servers ours,ws] [--churn N] [--idle N] [--slowloris-ms MS]`
//
// The adversarial soak suite: each probe attacks a server (ours, and ws where the probe applies
// to it) in a process of its own, over loopback, bounded in count and in time, and checks the
// limit it asserts, measured in the process under test (RSS and heap, connection counts, time to
// the server's verdict) and that the server still serves a fresh client afterwards. Exits 1 if a
// limit asserted of ours is exceeded (ws's figures are reported, never asserted). `--write`
// writes bench/SOAK.md. See bench/SOAK.md and the README's "Soak suite".
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAll, within } from './lib.mjs';
import handshake, { defaults as handshakeDefaults } from './probes/handshake.mjs';
import floods, { defaults as floodDefaults } from './probes/floods.mjs';
import bombs, { defaults as bombDefaults } from './probes/bombs.mjs';
import frames, { defaults as frameDefaults } from './probes/frames.mjs';
import connections, { defaults as connectionDefaults } from './probes/connections.mjs';
import neverRead, { defaults as neverReadDefaults } from './probes/never-read.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const valued = new Set(['--promised', '--flood-ms', '--servers', '--churn', '--idle', '--slowloris-ms', '--slowloris-count']);
const selected = args.filter((a, i) => !a.startsWith('--') && !valued.has(args[i - 1]));
const servers = opt('--servers', 'ours,ws').split(',');
const write = args.includes('--write');

const options = {
  ...handshakeDefaults, ...floodDefaults, ...bombDefaults, ...frameDefaults, ...connectionDefaults, ...neverReadDefaults,
};
if (opt('--flood-ms')) options.floodMs = Number(opt('--flood-ms'));
if (opt('--promised')) options.promisedConnections = Number(opt('--promised'));
if (opt('--churn')) options.churn = Number(opt('--churn'));
if (opt('--idle')) options.idle = Number(opt('--idle'));
if (opt('--slowloris-ms')) options.slowlorisMs = Number(opt('--slowloris-ms'));
if (opt('--slowloris-count')) options.slowlorisCount = Number(opt('--slowloris-count'));

const PROBES = [...handshake, ...floods, ...bombs, ...frames, ...connections, ...neverRead];
const chosen = selected.length ? PROBES.filter((p) => selected.some((s) => p.name === s || p.name.startsWith(s))) : PROBES;
if (chosen.length === 0) {
  console.error(`no probe matches ${selected.join(' ')}; probes: ${PROBES.map((p) => p.name).join(', ')}`);
  process.exit(2);
}
if (!fs.existsSync(path.join(here, '..', 'dist', 'node.mjs')) && !process.env.BENCH_DIST) {
  console.error('dist/ is not built: npm run build first');
  process.exit(2);
}

// Descriptors: the runner holds every client socket, the server its side. soak/run.sh raises the
// soft limit to the hard one; a count that does not fit is lowered, and said so.
const nofile = Number(execSync('sh -c "ulimit -n"').toString().trim());
const needed = options.idle + 500;
if (Number.isFinite(nofile) && nofile < needed) {
  const fit = Math.max(1000, nofile - 500);
  console.log(`note: ulimit -n is ${nofile}: idle connections lowered from ${options.idle} to ${fit} (run through npm run soak, which raises it to ulimit -Hn)`);
  options.idle = fit;
}

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const started = new Date();
const loadStart = load();
console.log(`soak: ${chosen.map((p) => p.name).join(', ')} | servers ${servers.join(',')} | load average ${loadStart} | ulimit -n ${nofile}`);

const rows = [];
let failed = false;
process.on('SIGINT', () => { killAll(); process.exit(130); });
for (const probe of chosen) {
  const row = { name: probe.name, limit: typeof probe.limit === 'function' ? probe.limit(options) : probe.limit, cells: {}, ok: {} };
  for (const server of servers) {
    if (!probe.servers.includes(server)) {
      row.cells[server] = 'n/a';
      continue;
    }
    const deadline = probe.deadlineMs(options);
    const t0 = performance.now();
    process.stdout.write(`${probe.name} [${server}] … `);
    let res;
    try {
      res = await within(probe.run(server, options), deadline, { timedOut: true });
    } catch (err) {
      res = { error: err };
    }
    killAll(); // whatever the probe left running (it stops its own; a timed-out one cannot)
    const took = ((performance.now() - t0) / 1000).toFixed(1);
    if (res.timedOut) {
      row.cells[server] = `probe exceeded its hard deadline of ${deadline / 1000} s`;
      row.ok[server] = false;
    } else if (res.error) {
      row.cells[server] = `probe failed: ${res.error.message}`;
      row.ok[server] = false;
    } else {
      row.cells[server] = res.cell;
      row.ok[server] = res.verdict.ok;
      if (!res.verdict.ok) row.cells[server] += ` — **limit exceeded**: ${res.verdict.failures.join('; ')}`;
    }
    const mark = row.ok[server] ? 'within limits' : (server === 'ours' ? 'LIMIT EXCEEDED' : 'exceeds the limit (ws: reported, not asserted)');
    console.log(`${mark} (${took} s, load ${load()})\n    ${row.cells[server]}`);
    if (server === 'ours' && !row.ok[server]) failed = true;
  }
  rows.push(row);
}
const loadEnd = load();

const esc = (s) => String(s).replace(/\|/g, '\\|');
const table = [
  '| probe | limit asserted | ours | ws |',
  '|---|---|---|---|',
  ...rows.map((r) => `| \`${r.name}\` | ${esc(r.limit)} | ${r.ok.ours === false ? '✗ ' : r.ok.ours ? '✓ ' : ''}${esc(r.cells.ours ?? 'not run')} | ${r.ok.ws === false ? '✗ ' : r.ok.ws ? '✓ ' : ''}${esc(r.cells.ws ?? 'not run')} |`),
].join('\n');
console.log(`\n${table}\n\nload average: ${loadStart} at the start, ${loadEnd} at the end`);

if (write) {
  const sh = (c) => { try { return execSync(c).toString().trim(); } catch { return '?'; } };
  const cpu = os.cpus()[0]?.model ?? '?';
  const machine = [
    `- Date: ${started.toISOString()} (${Math.round((Date.now() - started) / 1000)} s in all)`,
    `- Machine: \`${sh('uname -a')}\``,
    `- CPU: ${cpu}, ${os.cpus().length} cores; RAM ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; ws ${JSON.parse(fs.readFileSync(path.join(here, '..', 'node_modules', 'ws', 'package.json'), 'utf8')).version}`,
    `- Load average (1, 5, 15 min): ${loadStart} at the start, ${loadEnd} at the end (a shared machine: other jobs ran meanwhile)`,
    `- Descriptors: \`ulimit -n\` ${nofile}; idle connections ${options.idle}, churn ${options.churn}`,
    `- Command: \`npm run soak -- ${args.join(' ')}\``,
  ].join('\n');
  const file = path.join(here, '..', 'bench', 'SOAK.md');
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const begin = '<!-- soak:begin -->';
  const end = '<!-- soak:end -->';
  const block = `${begin}\n${machine}\n\n${table}\n${end}`;
  const text = old.includes(begin) ? old.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), () => block) : `# Soak results\n\n${block}\n`;
  fs.writeFileSync(file, text);
  console.log(`written to ${path.relative(process.cwd(), file)}`);
}
process.exit(failed ? 1 : 0);
