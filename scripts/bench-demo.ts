/**
 * How long `localssl demo` takes here, phase by phase, against its 5-minute budget on a 2-core
 * CPU. Run: npx tsx scripts/bench-demo.ts [--rules clapp-pp,bp-clapp-pp]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoTable } from '../src/cli/commands/demo.js';
import { DEFAULT_DEMO_RULES, demo } from '../src/demo.js';
import { closeEngine } from '../src/engine.js';
import { renderTable } from '../src/report/table.js';

const BUDGET_S = 300;
const flag = process.argv.indexOf('--rules');
const rules = flag > 0 ? (process.argv[flag + 1] ?? '').split(',') : [...DEFAULT_DEMO_RULES];
const runsDir = mkdtempSync(join(tmpdir(), 'localssl-bench-demo-'));

const phases: { phase: string; seconds: number }[] = [];
let phaseStart = performance.now();
let phaseName = 'start-up and config check';
const mark = (next: string) => {
  phases.push({ phase: phaseName, seconds: (performance.now() - phaseStart) / 1000 });
  phaseStart = performance.now();
  phaseName = next;
};

const started = performance.now();
const rows = await demo({
  rules,
  runsDir,
  onEvent: (method, event) => {
    if (event.event === 'started') mark(`${method}: train (incl. Python start)`);
    if (event.event === 'probe_started') mark(`${method}: probe`);
  },
});
mark('done');
const total = (performance.now() - started) / 1000;
await closeEngine();
rmSync(runsDir, { recursive: true, force: true });

process.stdout.write(`${demoTable(rows)}\n\n`);
process.stdout.write(
  `${renderTable(
    [{ header: 'phase' }, { header: 'seconds', align: 'right' }],
    [...phases.map((p) => [p.phase, p.seconds.toFixed(1)]), ['total', total.toFixed(1)]],
  )}\n`,
);
process.stdout.write(
  `\ndemo wall time ${total.toFixed(1)} s against a budget of ${BUDGET_S} s: ` +
    `${total <= BUDGET_S ? 'within budget' : 'OVER BUDGET'}\n`,
);
