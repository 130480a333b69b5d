/*
 * Long jobs (training, probing) as a child process: `<python> -u -m localssl <args>`.
 *
 * Events travel as NDJSON on fd 3 (localssl.events.EventChannel, LOCALSSL_EVENTS_FD=3), so
 * nothing the job or a C library prints can corrupt them, and Python never waits for Node.
 * The child's stdout is drained and dropped, stderr is kept as a tail for error messages.
 *
 * Stopping: aborting `signal` sends SIGINT (the job finishes its step, writes a checkpoint,
 * emits `stopped` and exits 130), then SIGTERM after graceMs, then SIGKILL after killAfterMs
 * (execa's forceKillAfterDelay). No orphans: the child is never detached, execa kills it when
 * Node exits, and its stdin stays an open pipe that localssl.lifeline watches, so even a
 * SIGKILLed Node takes the job down with it.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { JobError, type ProcessEnd } from '../errors.js';
import { LineTail } from './line-tail.js';
import { describeIssues, type JobEvent, jobEventSchema } from './protocol.js';
import { pythonPathFor, resolvePythonInterpreter } from './python-path.js';

/** Options of runJob. */
export interface RunJobOptions {
  /** Arguments after `python -u -m <module>`. */
  args: readonly string[];
  /**
   * Module run with `-m`.
   * @default 'localssl'
   */
  module?: string;
  /** Interpreter path or name; see resolvePythonInterpreter for the default order. */
  python?: string;
  /** Directories put on PYTHONPATH after the package's python/ folder. */
  pythonPath?: readonly string[];
  /** Extra environment variables for the job (on top of Node's environment). */
  env?: Record<string, string>;
  /** Working directory of the job. */
  cwd?: string;
  /** Aborting asks the job to stop: SIGINT, then SIGTERM after graceMs, then SIGKILL. */
  signal?: AbortSignal;
  /** Called for every valid event, in order. An exception thrown here stops the job. */
  onEvent: (event: JobEvent) => void;
  /** Called for each line of the job's stderr. */
  onStderr?: (line: string) => void;
  /** Called for event lines that are not valid events; they are also kept in `warnings`. */
  onWarning?: (message: string) => void;
  /**
   * Time in ms between SIGINT and SIGTERM after an abort.
   * @default 10_000
   */
  graceMs?: number;
  /**
   * Time in ms between SIGTERM and SIGKILL.
   * @default 5_000
   */
  killAfterMs?: number;
}

/** How a job ended when it did not fail. */
export interface JobResult {
  exitCode: number | undefined;
  signal: string | undefined;
  /** Every valid event, in order. */
  events: JobEvent[];
  /** The job emitted `stopped`: it ended early on request, after writing its checkpoint. */
  stopped: boolean;
  /** `signal` was aborted while the job ran. */
  aborted: boolean;
  /** Event lines that were not valid events. */
  warnings: string[];
}

const STDERR_TAIL_LINES = 50;
const DEFAULT_GRACE_MS = 10_000;
const DEFAULT_KILL_AFTER_MS = 5_000;

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

// A Python traceback ends with the exception line, the best summary of an exit with a code;
// after a signal the last line is just whatever the job was logging, so it only goes in brackets.
function failureMessage(
  label: string,
  result: {
    exitCode?: number | undefined;
    signal?: string | undefined;
    shortMessage?: string | undefined;
  },
  lastLine: string | undefined,
): string {
  if (result.signal !== undefined) {
    const context = lastLine === undefined ? '' : ` (last stderr line: ${lastLine})`;
    return `${label} was killed by ${result.signal}${context}`;
  }
  if (result.exitCode === undefined) return `${label} could not run: ${result.shortMessage ?? ''}`;
  return lastLine ?? `${label} exited with code ${result.exitCode}`;
}

/**
 * Runs `python -u -m <module> ...args`, streaming its events to onEvent. Resolves when the job
 * finished, stopped on request, or was aborted; throws JobError when it failed (a `failed` event,
 * or a non-zero exit without `finished` or `stopped`).
 */
export async function runJob(options: RunJobOptions): Promise<JobResult> {
  const module = options.module ?? 'localssl';
  const label = `python -m ${module} ${options.args.join(' ')}`.trim();
  const python = resolvePythonInterpreter(options.python);
  if (options.signal?.aborted) {
    throw new JobError(`${label} was aborted before it started`, {
      exitCode: undefined,
      signal: undefined,
      stderrTail: [],
    });
  }

  const subprocess = execa(python, ['-u', '-m', module, ...options.args], {
    cwd: options.cwd ?? process.cwd(),
    env: {
      ...options.env,
      LOCALSSL_EVENTS_FD: '3',
      PYTHONPATH: pythonPathFor(
        options.pythonPath ?? [],
        options.env?.PYTHONPATH ?? process.env.PYTHONPATH,
      ),
      PYTHONUNBUFFERED: '1',
    },
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    buffer: false,
    reject: false,
    cleanup: true,
    detached: false,
    forceKillAfterDelay: options.killAfterMs ?? DEFAULT_KILL_AFTER_MS,
  });

  const events: JobEvent[] = [];
  const warnings: string[] = [];
  const stderr = new LineTail(STDERR_TAIL_LINES);
  let callbackError: unknown;
  let aborted = false;
  let graceTimer: NodeJS.Timeout | undefined;

  const warn = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };

  // Rejections from our own callbacks must not escape a stream listener: stop the job instead.
  const guard = (run: () => void) => {
    if (callbackError !== undefined) return;
    try {
      run();
    } catch (error) {
      callbackError = error;
      subprocess.kill('SIGTERM');
    }
  };

  const eventLines = createInterface({
    input: subprocess.stdio[3] as Readable,
    crlfDelay: Infinity,
  });
  eventLines.on('line', (line) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      warn(`event line is not JSON: ${line.slice(0, 200)}`);
      return;
    }
    const parsed = jobEventSchema.safeParse(raw);
    if (!parsed.success) {
      warn(`event line is not an event (${describeIssues(parsed.error)}): ${line.slice(0, 200)}`);
      return;
    }
    events.push(parsed.data);
    guard(() => options.onEvent(parsed.data));
  });

  const stderrLines = createInterface({ input: subprocess.stderr, crlfDelay: Infinity });
  stderrLines.on('line', (line) => {
    stderr.pushLine(line);
    if (options.onStderr !== undefined) guard(() => options.onStderr?.(line));
  });

  subprocess.stdout.resume();

  const onAbort = () => {
    aborted = true;
    subprocess.kill('SIGINT');
    graceTimer = setTimeout(() => subprocess.kill('SIGTERM'), options.graceMs ?? DEFAULT_GRACE_MS);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  let result: Awaited<typeof subprocess>;
  try {
    [result] = await Promise.all([
      subprocess,
      once(eventLines, 'close'),
      once(stderrLines, 'close'),
    ]);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    clearTimeout(graceTimer);
  }

  const end: ProcessEnd = {
    exitCode: result.exitCode,
    signal: result.signal,
    stderrTail: stderr.lines(),
  };
  if (callbackError !== undefined) throw callbackError;

  const failed = events.find((event) => event.event === 'failed');
  if (failed !== undefined) {
    const message = textOf(failed.message) ?? stderr.lastLine() ?? `${label} reported failure`;
    throw new JobError(message, end);
  }

  const stopped = events.some((event) => event.event === 'stopped');
  const finished = events.some((event) => event.event === 'finished');
  const clean = result.exitCode === 0 && result.signal === undefined;
  if (!clean && !stopped && !finished && !aborted) {
    throw new JobError(failureMessage(label, result, stderr.lastLine()), end);
  }

  return { exitCode: end.exitCode, signal: end.signal, events, stopped, aborted, warnings };
}
