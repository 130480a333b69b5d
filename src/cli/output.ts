import { LocalsslError } from '../errors.js';

/** Exit status per error code: usage and config 2, data 3, Python setup 4, run 5, others 1. */
const EXIT_CODES: Partial<Record<LocalsslError['code'], number>> = {
  E_USAGE: 2,
  E_CONFIG: 2,
  E_DATA: 3,
  E_PYTHON_SETUP: 4,
  E_RUN: 5,
};

export const EXIT_STOPPED = 130;

/** Print one line for an error and return the exit status; a stack only with LOCALSSL_DEBUG. */
export function reportError(error: unknown): number {
  if (error instanceof LocalsslError) {
    process.stderr.write(`localssl: ${error.message}\n`);
    if (process.env.LOCALSSL_DEBUG) process.stderr.write(`${error.stack ?? ''}\n`);
    return EXIT_CODES[error.code] ?? 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`localssl: internal error: ${message}\n`);
  if (error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return 1;
}

/** Print a result as JSON on stdout (non-finite numbers as strings, as the engine does). */
export function printJson(value: unknown): void {
  const text = JSON.stringify(
    value,
    (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v),
    2,
  );
  process.stdout.write(`${text}\n`);
}

/**
 * An AbortSignal for Ctrl-C: the first asks the running job to stop gracefully (it finishes
 * its step and writes a checkpoint); a second exits at once, which ends the job too.
 */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT_STOPPED);
    process.stderr.write('\nlocalssl: stopping after this step (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
