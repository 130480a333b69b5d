import { join } from 'node:path';
import { type AlignmentReport, align, writeComparison } from '../../align/align.js';
import { LocalsslError } from '../../errors.js';
import { ProgressReporter } from '../../report/progress.js';
import { fixed, renderTable } from '../../report/table.js';
import { interruptSignal, printJson } from '../output.js';

export interface AlignArgs {
  runs: string[];
  checkpoint: string;
  batches: number;
  out: string | undefined;
  json: boolean;
  verbose: boolean;
}

function withInterval(mean: number, halfWidth: number, digits: number): string {
  return Number.isFinite(mean) ? `${fixed(mean, digits)} ± ${fixed(halfWidth, digits)}` : '-';
}

function runTable(report: AlignmentReport): string {
  return renderTable(
    [
      { header: 'layer', align: 'right' },
      { header: 'cosine (95 %)', align: 'right' },
      { header: 'norm ratio', align: 'right' },
      { header: 'sign agreement', align: 'right' },
    ],
    report.layers.map((l) => [
      String(l.layer),
      withInterval(l.cosine.mean, l.cosine.halfWidth, 4),
      withInterval(l.normRatio.mean, l.normRatio.halfWidth, 3),
      fixed(l.signAgreement.mean, 3),
    ]),
  );
}

function comparisonTable(reports: readonly AlignmentReport[]): string {
  const layers = [...new Set(reports.flatMap((r) => r.layers.map((l) => l.layer)))].sort();
  return renderTable(
    [
      { header: 'layer', align: 'right' },
      ...reports.map((r) => ({ header: r.name, align: 'right' as const })),
    ],
    layers.map((layer) => [
      String(layer),
      ...reports.map((r) => {
        const entry = r.layers.find((l) => l.layer === layer);
        return entry === undefined ? '-' : fixed(entry.cosine.mean, 4);
      }),
    ]),
  );
}

/** `localssl align <run...>`: per-layer alignment of local updates with backprop's. */
export async function alignCommand(args: AlignArgs): Promise<number> {
  const checkpoint = args.checkpoint === 'latest' ? 'latest' : Number(args.checkpoint);
  if (checkpoint !== 'latest' && !Number.isInteger(checkpoint)) {
    throw new LocalsslError(
      'E_USAGE',
      `--checkpoint ${args.checkpoint}: expected latest or an epoch`,
    );
  }
  const interrupt = interruptSignal();
  const reports: AlignmentReport[] = [];
  try {
    for (const run of args.runs) {
      const progress = new ProgressReporter(process.stderr, run);
      reports.push(
        await align(run, {
          checkpoint,
          batches: args.batches,
          signal: interrupt.signal,
          onEvent: (event) => progress.onEvent(event),
          ...(args.verbose ? { onLog: (line: string) => process.stderr.write(`${line}\n`) } : {}),
        }),
      );
      progress.close();
    }
  } finally {
    interrupt.dispose();
  }

  const first = reports[0]!;
  const plots = writeComparison(args.out ?? first.dir, reports);
  if (args.json) {
    printJson({ reports, plots });
    return 0;
  }
  for (const report of reports) {
    process.stdout.write(
      `\n${report.name} (${report.checkpoint}, ${report.batches} batches) — ` +
        `${join(report.dir, 'align.json')}\n`,
    );
    process.stdout.write(`${runTable(report)}\n`);
  }
  if (reports.length > 1) process.stdout.write(`\ncosine by layer\n${comparisonTable(reports)}\n`);
  process.stdout.write(`\nplots: ${plots.join(', ')}\n`);
  return 0;
}
