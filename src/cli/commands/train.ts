import type { Argv } from 'yargs';
import { loadConfig, parseOverride } from '../../config/load.js';
import { ProgressReporter } from '../../report/progress.js';
import { type JobOptions, resume, type TrainOutcome, train } from '../../run/train.js';
import { EXIT_STOPPED, interruptSignal, printJson } from '../output.js';

export interface TrainArgs {
  config: string;
  set: string[];
  runsDir: string;
  json: boolean;
  verbose: boolean;
}

export function trainOptions(yargs: Argv) {
  return yargs
    .positional('config', { type: 'string', demandOption: true, describe: 'YAML or JSON config' })
    .option('set', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'Override a key: --set train.epochs=3 (repeatable)',
    })
    .option('runs-dir', { type: 'string', default: 'runs', describe: 'Parent of run directories' });
}

/** Run a training job with a progress bar and Ctrl-C handling; print the run directory. */
async function trainWithProgress(
  label: string,
  args: { json: boolean; verbose: boolean },
  work: (options: JobOptions) => Promise<TrainOutcome>,
): Promise<number> {
  const progress = new ProgressReporter(process.stderr, label);
  const interrupt = interruptSignal();
  try {
    const outcome = await work({
      signal: interrupt.signal,
      onEvent: (event) => progress.onEvent(event),
      ...(args.verbose ? { onLog: (line: string) => process.stderr.write(`${line}\n`) } : {}),
    });
    progress.close();
    if (args.json) printJson(outcome);
    else process.stdout.write(`${outcome.runDir}\n`);
    return outcome.status === 'stopped' ? EXIT_STOPPED : 0;
  } finally {
    progress.close();
    interrupt.dispose();
  }
}

/** `localssl train <config>`: validate, train with a progress bar, print where the run is. */
export async function trainCommand(args: TrainArgs): Promise<number> {
  const config = loadConfig(args.config, args.set.map(parseOverride));
  return trainWithProgress(config.name, args, (options) =>
    train(config, { ...options, runsDir: args.runsDir, source: args.config }),
  );
}

/** `localssl resume <run>`: continue a run from its latest checkpoint. */
export async function resumeCommand(args: { run: string; json: boolean; verbose: boolean }) {
  return trainWithProgress(args.run, args, (options) => resume(args.run, options));
}
