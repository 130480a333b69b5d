import { LocalsslError } from '../errors.js';
import type { ProbeResult } from './events.js';
import { openRun } from './run-dir.js';
import { writeSummary } from './summary.js';
import { type JobOptions, runRunJob } from './train.js';

export interface ProbeOptions extends JobOptions {
  /** Which encoder: 'latest', an epoch number, or 'none' for the random-init encoder. */
  checkpoint?: 'latest' | 'none' | number;
}

/**
 * Linear probe of a run's frozen encoder (paper protocol: every layer pooled, concatenated, one
 * linear layer). Writes probe.json (probe-random.json for the random-init encoder).
 */
export async function probe(dir: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const run = openRun(dir);
  const checkpoint = options.checkpoint ?? 'latest';
  if (checkpoint !== 'none' && run.checkpoints.length === 0) {
    throw new LocalsslError('E_RUN', `${run.dir}: no checkpoint to probe; train it first`);
  }
  if (typeof checkpoint === 'number' && !run.checkpoints.includes(checkpoint)) {
    throw new LocalsslError(
      'E_RUN',
      `${run.dir}: no checkpoint for epoch ${checkpoint} (have ${run.checkpoints.join(', ')})`,
    );
  }

  await runRunJob(
    run.dir,
    ['probe', '--run-dir', run.dir, '--checkpoint', String(checkpoint)],
    options,
  );
  const after = openRun(run.dir);
  const result = checkpoint === 'none' ? after.probeRandom : after.probe;
  if (result === undefined) {
    throw new LocalsslError('E_RUN', `${run.dir}: the probe ended without writing its result`);
  }
  writeSummary(run.dir);
  return result;
}
