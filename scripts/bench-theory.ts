/**
 * Wall time of each theory experiment at paper scale against its budget (fig2: 2 minutes on a
 * 2-core CPU). Run: npx tsx scripts/bench-theory.ts [fig2 fig3a fig4b theorems]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderTable } from '../src/report/table.js';
import { THEORY_EXPERIMENTS, type TheoryExperiment, theory } from '../src/theory/theory.js';

const BUDGET_S: Partial<Record<TheoryExperiment, number>> = { fig2: 120 };
const asked = process.argv.slice(2) as TheoryExperiment[];
const experiments = asked.length > 0 ? asked : (['fig2'] as TheoryExperiment[]);
for (const name of experiments) {
  if (!THEORY_EXPERIMENTS.includes(name)) throw new Error(`unknown experiment ${name}`);
}

const out = mkdtempSync(join(tmpdir(), 'localssl-bench-theory-'));
const rows: string[][] = [];
for (const name of experiments) {
  const started = performance.now();
  await theory(name, { scale: 'paper', outDir: join(out, name) });
  const seconds = (performance.now() - started) / 1000;
  const budget = BUDGET_S[name];
  const verdict = budget === undefined ? '-' : seconds <= budget ? 'within' : 'OVER';
  rows.push([name, seconds.toFixed(1), budget === undefined ? '-' : String(budget), verdict]);
}
rmSync(out, { recursive: true, force: true });
process.stdout.write(
  `${renderTable(
    [
      { header: 'experiment' },
      { header: 'wall s', align: 'right' },
      { header: 'budget s', align: 'right' },
      { header: 'verdict' },
    ],
    rows,
  )}\n`,
);
