import { fixed, renderTable } from '../../report/table.js';
import {
  THEORY_EXPERIMENTS,
  type TheoryExperiment,
  type TheoryReport,
  theory,
} from '../../theory/theory.js';
import { interruptSignal, printJson } from '../output.js';

export interface TheoryArgs {
  experiment: TheoryExperiment;
  scale: 'paper' | 'smoke';
  seed: number;
  out: string | undefined;
  json: boolean;
  verbose: boolean;
}

export const theoryChoices = THEORY_EXPERIMENTS;

/** Variants as rows, layers as columns: mean cosine of local against backprop updates. */
export function theoryTable(report: TheoryReport): string {
  const layers = Math.max(...report.variants.map((v) => v.layers.length));
  return renderTable(
    [
      { header: 'variant' },
      ...Array.from({ length: layers }, (_, i) => ({
        header: `L${i + 1}`,
        align: 'right' as const,
      })),
      { header: 'batches', align: 'right' },
    ],
    report.variants.map((v) => [
      v.label,
      ...v.layers.map((l) => fixed(l.cosine.mean, 4)),
      v.batches === v.measuredBatches ? String(v.batches) : `${v.batches} of ${v.measuredBatches}`,
    ]),
  );
}

function checkLines(report: TheoryReport): string[] {
  const checks = report.result.checks ?? {};
  return Object.entries(checks).map(([name, check]) => {
    const numbers = Object.entries(check)
      .filter(([key, value]) => key !== 'passed' && typeof value === 'number')
      .map(([key, value]) => `${key} ${Number(value).toPrecision(6)}`)
      .join(', ');
    return `${check.passed ? 'PASS' : 'FAIL'}  ${name}: ${numbers}`;
  });
}

/** `localssl theory <experiment>`: run it, print the table (and checks), write the plots. */
export async function theoryCommand(args: TheoryArgs): Promise<number> {
  const interrupt = interruptSignal();
  let last = '';
  try {
    const report = await theory(args.experiment, {
      scale: args.scale,
      seed: args.seed,
      ...(args.out === undefined ? {} : { outDir: args.out }),
      signal: interrupt.signal,
      onEvent: (event) => {
        if (event.event === 'theory_variant' && event.status === 'start') {
          last = String(event.variant);
          process.stderr.write(`theory ${args.experiment}: ${last} ...\n`);
        }
      },
      ...(args.verbose ? { onLog: (line: string) => process.stderr.write(`${line}\n`) } : {}),
    });
    if (args.json) {
      printJson(report);
      return report.result.passed === false ? 1 : 0;
    }
    process.stdout.write(
      `\n${args.experiment} (${report.scale} scale): cosine similarity of local and backprop ` +
        'weight updates, computed from the gradient tensors\n',
    );
    process.stdout.write(`${theoryTable(report)}\n`);
    const checks = checkLines(report);
    if (checks.length > 0) process.stdout.write(`\n${checks.join('\n')}\n`);
    process.stdout.write(`\nresults and plots in ${report.outDir}: ${report.plots.join(', ')}\n`);
    return report.result.passed === false ? 1 : 0;
  } finally {
    interrupt.dispose();
  }
}
