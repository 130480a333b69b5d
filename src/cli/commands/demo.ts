import { type DemoRow, demo } from '../../demo.js';
import { ProgressReporter } from '../../report/progress.js';
import { fixed, renderTable } from '../../report/table.js';
import { EXIT_STOPPED, interruptSignal, printJson } from '../output.js';

export interface DemoArgs {
  rules: string[] | undefined;
  set: string[];
  runsDir: string;
  json: boolean;
  verbose: boolean;
}

export function demoTable(rows: readonly DemoRow[]): string {
  return renderTable(
    [
      { header: 'method' },
      { header: 'probe top-1 %', align: 'right' },
      { header: 'train s', align: 'right' },
      { header: 'images/s', align: 'right' },
    ],
    rows.map((row) => [
      row.method,
      fixed(row.probeTop1, 2),
      fixed(row.trainSeconds, 1),
      fixed(row.imagesPerSecond, 0),
    ]),
  );
}

/** `localssl demo`: CLAPP++ and BP-CLAPP++ on MNIST, probed beside a random-init encoder. */
export async function demoCommand(args: DemoArgs): Promise<number> {
  const reporters = new Map<string, ProgressReporter>();
  const interrupt = interruptSignal();
  try {
    const rows = await demo({
      ...(args.rules === undefined ? {} : { rules: args.rules }),
      overrides: args.set,
      runsDir: args.runsDir,
      signal: interrupt.signal,
      onEvent: (method, event) => {
        let reporter = reporters.get(method);
        if (reporter === undefined) {
          for (const other of reporters.values()) other.close();
          reporter = new ProgressReporter(process.stderr, method);
          reporters.set(method, reporter);
        }
        reporter.onEvent(event);
      },
      ...(args.verbose ? { onLog: (line: string) => process.stderr.write(`${line}\n`) } : {}),
    });
    for (const reporter of reporters.values()) reporter.close();
    if (args.json) printJson(rows);
    else process.stdout.write(`\n${demoTable(rows)}\n`);
    return interrupt.signal.aborted ? EXIT_STOPPED : 0;
  } finally {
    for (const reporter of reporters.values()) reporter.close();
    interrupt.dispose();
  }
}
