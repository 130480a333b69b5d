import type { PythonBridge } from '../bridge/index.js';
import { runJob } from '../bridge/index.js';
import type { Config } from '../config/schema.js';
import { withDataRoot } from '../data/roots.js';
import { checkConfig, engine } from '../engine.js';
import { JobError } from '../errors.js';
import { type RunEvent, runEventSchema, type TrainResult } from './events.js';
import { appendEvent, createRunDir, discardIfEmpty, openRun } from './run-dir.js';
import { writeSummary } from './summary.js';

/** Options shared by the run operations (train, resume, probe). */
export interface JobOptions {
  /** Aborting asks the job to finish its step, write a checkpoint and stop. */
  signal?: AbortSignal;
  /** Every event of the job, validated, in order; also written to events.jsonl. */
  onEvent?: (event: RunEvent) => void;
  /** Each line the engine logs to stderr. @default dropped */
  onLog?: (line: string) => void;
  /** Interpreter; see resolvePythonInterpreter for the default order. */
  python?: string;
}

export interface TrainOptions extends JobOptions {
  /** Parent folder of run directories. @default 'runs' */
  runsDir?: string;
  /** Bridge for the pre-flight config check. @default the shared engine() */
  bridge?: PythonBridge;
  /** Where the config came from, for error messages. @default 'config' */
  source?: string;
  /**
   * Also probe the final encoder (probe.json, and knn.json / probe-layers.json when the config
   * asks) in the training job's process, saving one engine start-up. @default false
   */
  probe?: boolean;
}

export interface TrainOutcome {
  runDir: string;
  status: 'finished' | 'stopped';
  /** The engine's summary (train.json); undefined when stopped early. */
  result: TrainResult | undefined;
}

/** Run `python -m localssl <args>` for a run directory, recording its events. */
export async function runRunJob(
  dir: string,
  args: string[],
  options: JobOptions,
): Promise<'finished' | 'stopped'> {
  const outcome = await runJob({
    args,
    ...(options.python === undefined ? {} : { python: options.python }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onStderr: options.onLog ?? (() => {}),
    onEvent: (raw) => {
      appendEvent(dir, raw);
      const parsed = runEventSchema.safeParse(raw);
      if (parsed.success) options.onEvent?.(parsed.data);
    },
  });
  return outcome.stopped || outcome.aborted ? 'stopped' : 'finished';
}

/**
 * Train a fresh run: check the config and the data, make `runsDir/<name>-<time>/`, and run the
 * engine's training job in a child process. A run that fails before its first checkpoint leaves
 * no directory behind.
 */
export async function train(config: Config, options: TrainOptions = {}): Promise<TrainOutcome> {
  const source = options.source ?? 'config';
  const resolved = withDataRoot(config);
  await checkConfig(resolved, source, options.bridge ?? engine());

  const dir = createRunDir(options.runsDir ?? 'runs', resolved);
  const args = ['train', '--run-dir', dir, ...(options.probe ? ['--probe'] : [])];
  return finishTraining(dir, args, options);
}

/** Continue a run from its latest checkpoint. */
export async function resume(dir: string, options: JobOptions = {}): Promise<TrainOutcome> {
  const run = openRun(dir);
  return finishTraining(run.dir, ['train', '--run-dir', run.dir, '--resume'], options);
}

async function finishTraining(
  dir: string,
  args: string[],
  options: JobOptions,
): Promise<TrainOutcome> {
  writeSummary(dir, 'running');
  let status: 'finished' | 'stopped';
  try {
    status = await runRunJob(dir, args, options);
  } catch (error) {
    if (!discardIfEmpty(dir)) {
      writeSummary(dir, 'failed', error instanceof JobError ? error.message : String(error));
    }
    throw error;
  }
  if (status === 'stopped' && discardIfEmpty(dir)) {
    return { runDir: dir, status, result: undefined };
  }
  writeSummary(dir, status);
  return { runDir: dir, status, result: openRun(dir).train };
}
