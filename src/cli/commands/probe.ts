import { LocalsslError } from '../../errors.js';
import { ProgressReporter } from '../../report/progress.js';
import { fixed } from '../../report/table.js';
import { probe } from '../../run/probe.js';
import { interruptSignal, printJson } from '../output.js';

export interface ProbeArgs {
  run: string;
  checkpoint: string;
  json: boolean;
  verbose: boolean;
}

function parseCheckpoint(text: string): 'latest' | 'none' | number {
  if (text === 'latest' || text === 'none') return text;
  if (/^\d+$/.test(text)) return Number(text);
  throw new LocalsslError('E_USAGE', `--checkpoint ${text}: expected latest, none or an epoch`);
}

/** `localssl probe <run>`: linear probe of the run's encoder; prints top-1. */
export async function probeCommand(args: ProbeArgs): Promise<number> {
  const checkpoint = parseCheckpoint(args.checkpoint);
  const progress = new ProgressReporter(process.stderr, 'probe');
  const interrupt = interruptSignal();
  try {
    const result = await probe(args.run, {
      checkpoint,
      signal: interrupt.signal,
      onEvent: (event) => progress.onEvent(event),
      ...(args.verbose ? { onLog: (line: string) => process.stderr.write(`${line}\n`) } : {}),
    });
    progress.close();
    if (args.json) printJson(result);
    else {
      process.stdout.write(
        `top-1 ${fixed(result.test_top1, 2)} % (last epoch; ` +
          `best ${fixed(result.best_test_top1, 2)} % at epoch ${result.best_epoch}), ` +
          `${result.feature_dim} features, ${result.test_images} test images\n`,
      );
    }
    return 0;
  } finally {
    progress.close();
    interrupt.dispose();
  }
}
