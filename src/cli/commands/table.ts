import type { Argv } from 'yargs';
import { LocalsslError } from '../../errors.js';
import { ProgressReporter } from '../../report/progress.js';
import { type TableName, tableNames } from '../../tables/paper.js';
import { renderReport } from '../../tables/render.js';
import { defaultJobs, reproduceTable } from '../../tables/reproduce.js';
import { type Scale, scaleNames } from '../../tables/scale.js';
import { EXIT_STOPPED, interruptSignal, printJson } from '../output.js';

export function tableOptions(yargs: Argv) {
  return yargs
    .positional('table', { choices: tableNames, demandOption: true })
    .option('scale', {
      choices: scaleNames,
      default: 'smoke' as Scale,
      describe: 'smoke: toy size on synthetic data (CPU, minutes); paper: the real runs (GPU)',
    })
    .option('runs', {
      type: 'string',
      default: 'runs',
      describe: 'Folder of the cell runs: finished ones are collected, missing ones made there',
    })
    .option('seeds', { type: 'number', default: 1, describe: 'Seeds per cell: 2, 3, ...' })
    .option('data-root', {
      type: 'string',
      describe: 'Paper scale: the folder holding cifar-10-batches-py/, stl10_binary/, ...',
    })
    .option('dataset', { type: 'string', array: true, describe: 'Only these datasets' })
    .option('method', { type: 'string', array: true, describe: 'Only these methods' })
    .option('jobs', {
      type: 'number',
      describe: 'Cells trained at once (default: smoke one per core up to 4, paper 1)',
    })
    .option('run', {
      type: 'boolean',
      default: true,
      describe: 'Train and probe missing cells (--no-run: only collect finished runs)',
    });
}

export interface TableArgs {
  table: TableName;
  scale: Scale;
  runs: string;
  seeds: number;
  dataRoot: string | undefined;
  dataset: string[] | undefined;
  method: string[] | undefined;
  jobs: number | undefined;
  run: boolean;
  json: boolean;
  verbose: boolean;
}

/** `localssl table <main|ablation>`: fill a table of the paper and print it beside the paper. */
export async function tableCommand(args: TableArgs): Promise<number> {
  if (!Number.isInteger(args.seeds) || args.seeds < 1) {
    throw new LocalsslError('E_USAGE', `--seeds ${args.seeds}: expected a whole number >= 1`);
  }
  const jobs = args.jobs ?? defaultJobs(args.scale);
  if (!Number.isInteger(jobs) || jobs < 1) {
    throw new LocalsslError('E_USAGE', `--jobs ${args.jobs}: expected a whole number >= 1`);
  }
  const reporters = new Map<string, ProgressReporter>();
  const reporter = (tag: string) => {
    let found = reporters.get(tag);
    if (found === undefined) {
      for (const other of reporters.values()) other.close();
      found = new ProgressReporter(process.stderr, tag);
      reporters.set(tag, found);
    }
    return found;
  };
  const interrupt = interruptSignal();
  try {
    const report = await reproduceTable({
      table: args.table,
      scale: args.scale,
      runsDir: args.runs,
      seeds: args.seeds,
      run: args.run,
      ...(args.dataRoot === undefined ? {} : { dataRoot: args.dataRoot }),
      ...(args.dataset === undefined ? {} : { datasets: args.dataset }),
      ...(args.method === undefined ? {} : { methods: args.method }),
      signal: interrupt.signal,
      onJob: (tag, job) => process.stderr.write(`${tag}: ${job}\n`),
      jobs,
      onEvent: (tag, event) => {
        // Jobs side by side would fight over one rewritten status line: whole lines only.
        if (jobs > 1 && (event.event === 'step' || event.event === 'probe_epoch')) return;
        reporter(tag).onEvent(event);
      },
      ...(args.verbose ? { onLog: (line: string) => process.stderr.write(`${line}\n`) } : {}),
    });
    for (const r of reporters.values()) r.close();
    if (args.json) printJson(report);
    else process.stdout.write(`${renderReport(report)}\n`);
    return report.stopped ? EXIT_STOPPED : 0;
  } finally {
    for (const r of reporters.values()) r.close();
    interrupt.dispose();
  }
}
