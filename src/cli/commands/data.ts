import type { Argv } from 'yargs';
import {
  checkData,
  type DataCheck,
  type DownloadProgress,
  downloadData,
  type ManagedDataset,
  managedDatasets,
} from '../../data/manage.js';
import { EXIT_STOPPED, interruptSignal, printJson } from '../output.js';

/** `localssl data check|download <dataset> --root DIR`: the yargs sub-commands. */
export function dataCommands(yargs: Argv, run: (work: () => Promise<number>) => () => void) {
  const dataset = (y: Argv) =>
    y.positional('dataset', { choices: managedDatasets, demandOption: true }).option('root', {
      type: 'string',
      demandOption: true,
      describe: 'Folder holding (or to hold) the dataset folder',
    });
  return yargs
    .command(
      'check <dataset>',
      'Check a dataset on disk: layout, sizes, counts, labels (--full: md5s, every JPEG)',
      (y) =>
        dataset(y).option('full', {
          type: 'boolean',
          default: false,
          describe: 'Also verify md5s (STL-10: 2.7 GB to hash) or decode every JPEG',
        }),
      (args) => run(() => dataCheckCommand(args as never))(),
    )
    .command(
      'download <dataset>',
      'Download, md5-check and extract the official archive (resumable)',
      (y) =>
        dataset(y)
          .option('base-url', { type: 'string', describe: 'A mirror replacing the official host' })
          .option('md5', { type: 'string', describe: "The mirror archive's md5, if it differs" })
          .option('keep-archive', { type: 'boolean', default: false }),
      (args) => run(() => dataDownloadCommand(args as never))(),
    )
    .demandCommand(1, 'name a data command: check or download');
}

export interface DataCheckArgs {
  dataset: ManagedDataset;
  root: string;
  full: boolean;
  json: boolean;
}

/** The report as lines: a summary line, then one line per problem, then warnings. */
export function formatDataCheck(report: DataCheck): string[] {
  const where = `${report.dataset} at ${report.root}`;
  const counts = Object.entries(report.counts)
    .map(([split, n]) => `${split} ${n}`)
    .join(', ');
  const md5 = report.md5_verified.length > 0 ? `; md5 verified: ${report.md5_verified.length}` : '';
  const layout = report.layout === null ? '' : ` (${report.layout} layout)`;
  const lines = report.ok
    ? [`${where}: ok${layout}; ${counts || 'no images'}${md5}`]
    : [
        `${where}: ${report.errors.length} problem` +
          `${report.errors.length === 1 ? '' : 's'}${layout}`,
        ...report.errors,
      ];
  return [...lines, ...report.warnings.map((w) => `warning: ${w}`)];
}

/** `localssl data check`: exit 0 when the dataset is complete, 3 (data error) otherwise. */
export async function dataCheckCommand(args: DataCheckArgs): Promise<number> {
  const report = await checkData(args.dataset, args.root, { full: args.full });
  if (args.json) printJson(report);
  else process.stdout.write(`${formatDataCheck(report).join('\n')}\n`);
  return report.ok ? 0 : 3;
}

export interface DataDownloadArgs {
  dataset: ManagedDataset;
  root: string;
  baseUrl: string | undefined;
  md5: string | undefined;
  keepArchive: boolean;
  json: boolean;
  verbose: boolean;
}

function sizeText(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Progress on stderr: a rewritten line on a terminal, a line per stage and per 10 % elsewhere. */
export function downloadReporter(out: NodeJS.WriteStream | NodeJS.WritableStream) {
  const tty = (out as { isTTY?: boolean }).isTTY === true;
  let stage = '';
  let tenth = -1;
  let live = false;
  return {
    onProgress(p: DownloadProgress) {
      const unit = p.stage === 'extract' ? (n: number) => `${n} files` : sizeText;
      const share = p.total ? p.done / p.total : undefined;
      const text =
        `${p.dataset}: ${p.stage} ${unit(p.done)}` +
        (p.total && share !== undefined
          ? ` of ${unit(p.total)} (${Math.round(share * 100)} %)`
          : '');
      if (tty) {
        out.write(`\r\x1b[2K${text}`);
        live = true;
        return;
      }
      const step = share === undefined ? 0 : Math.floor(share * 10);
      if (p.stage !== stage || step > tenth) out.write(`${text}\n`);
      if (p.stage !== stage) tenth = -1;
      stage = p.stage;
      tenth = Math.max(tenth, step);
    },
    close() {
      if (live) out.write('\n');
      live = false;
    },
  };
}

/** `localssl data download`: prints the dataset folder. */
export async function dataDownloadCommand(args: DataDownloadArgs): Promise<number> {
  const reporter = downloadReporter(process.stderr);
  const interrupt = interruptSignal();
  try {
    const result = await downloadData(args.dataset, args.root, {
      ...(args.baseUrl === undefined ? {} : { baseUrl: args.baseUrl }),
      ...(args.md5 === undefined ? {} : { md5: args.md5 }),
      keepArchive: args.keepArchive,
      signal: interrupt.signal,
      onProgress: (p) => reporter.onProgress(p),
      ...(args.verbose ? { onLog: (line: string) => process.stderr.write(`${line}\n`) } : {}),
    });
    reporter.close();
    if (args.json) printJson(result);
    else process.stdout.write(`${result.folder}\n`);
    return 0;
  } catch (error) {
    if (interrupt.signal.aborted) return EXIT_STOPPED;
    throw error;
  } finally {
    reporter.close();
    interrupt.dispose();
  }
}
