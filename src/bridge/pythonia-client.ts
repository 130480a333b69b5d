/*
 * PythonBridge: short request/response calls into the Python package, over pythonia 1.2.6.
 *
 * Every guarantee below was checked against pythonia's sources (node_modules/pythonia/src/
 * pythonia: index.js, IpcPipeCom.js, Bridge.js) and by the tests in test/bridge; bridge-notes.md
 * has the measurements. pythonia stays the transport; each weakness is closed here:
 *
 * - Requiring pythonia spawns Python at once and keeps Node alive (a 1 s GC interval, the IPC
 *   channel). So it is required lazily on the first call, with PYTHON_BIN, PYTHONPATH and
 *   REQ_TIMEOUT set only around that synchronous require (createRequire, not `await import()`,
 *   so no other code ever sees the changed environment); afterwards the interval, the child
 *   and its channel are unref'd and re-ref'd only while a call is pending.
 * - pythonia is a process-wide singleton (its state lives on globalThis), hence one open
 *   PythonBridge per Node process; starting a second while one is open is refused.
 * - Results: localssl.bridge.call returns one JSON string (pythonia passes exact `str` as a JS
 *   primitive), so no proxies pile up, NaN cannot reach pythonia's IPC parser (where it crashes
 *   Node) and Python exceptions arrive with type, message and traceback.
 * - Timeouts: pythonia's own timer neither stops Python nor settles cleanly (a late rejection
 *   crashed Node in the notes). REQ_TIMEOUT=0 and `$timeout: Infinity` switch it off; this class
 *   owns every timeout. A call that times out (or is aborted) ends that Python with SIGTERM
 *   (SIGKILL 2 s later), because Python runs calls one at a time and everything after would
 *   queue behind the stuck call. The next call starts a fresh Python transparently; Python-side
 *   state is lost then, which `generation` makes visible.
 * - Crashes: pythonia installs no 'exit' listener, so a dead Python was noticed only at the
 *   timeout. Here the child's 'exit' rejects the call in flight at once with the exit code or
 *   signal and the tail of Python's stderr. Recovery is the same transparent restart.
 * - stderr: pythonia spawns Python with stdio inherited, so Node cannot read it. When imported
 *   by this bridge, localssl.bridge points fd 1 at fd 2 (no Python or C output reaches our
 *   stdout) and fd 2 at a Unix socket served here, which survives a crash with its buffered
 *   bytes; the text is forwarded to `onStderr` (default: process.stderr).
 * - Missing interpreter: pythonia's spawn error is an unhandled 'error' event that kills Node,
 *   so the interpreter is verified first (resolvePythonInterpreter) and an 'error' listener is
 *   attached in the same tick as the spawn.
 * - Lifetime: close() ends Python (shutdown() to flush, then pythonia's exit(), i.e. SIGTERM).
 *   A process 'exit' hook does the same synchronously if the host never calls close(); Python
 *   also exits on its own within 0.5 s once Node is gone (watchdog in localssl.bridge), which
 *   covers a SIGKILLed Node that runs no hook at all.
 * - Signals: SIGINT/SIGTERM listeners are installed while Python runs. If ours is the only
 *   listener, it ends Python, removes itself and re-raises the signal, so the process dies as it
 *   would have without us. If the host listens too, the signal is the host's business: nothing
 *   is touched, Ctrl-C is not swallowed, and the exit hook still ends Python when the host exits.
 *   Python itself ignores SIGINT (the terminal sends Ctrl-C to the whole process group), so its
 *   lifetime is decided by Node alone.
 *
 * No guarantee needed the self-owned worker of bridge-notes Design B; pythonia's reliance on Node
 * internals (the IPC channel handle) remains a risk pinned by the exact version in package.json.
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { stripVTControlCharacters } from 'node:util';
import type { z } from 'zod';
import { BridgeError, LocalsslError, type ProcessEnd, PythonSetupError } from '../errors.js';
import { LineTail } from './line-tail.js';
import { decodeReply } from './protocol.js';
import { pythonPathFor, resolvePythonInterpreter } from './python-path.js';
import { StderrSocket } from './stderr-socket.js';

/** Options of a PythonBridge; all optional. */
export interface PythonBridgeOptions {
  /** Interpreter path or name; see resolvePythonInterpreter for the default order. */
  python?: string;
  /**
   * Module whose BRIDGE_METHODS a call uses unless the call names another.
   * @default 'localssl.api'
   */
  module?: string;
  /** Directories put on PYTHONPATH after the package's python/ folder (fixtures, plugins). */
  pythonPath?: readonly string[];
  /**
   * Per-call time limit in ms, including the first import of the called module (torch: ~2.5 s).
   * `Infinity` disables it.
   * @default 60_000
   */
  timeoutMs?: number;
  /**
   * Time limit in ms for starting Python and importing localssl.bridge.
   * @default 30_000
   */
  startTimeoutMs?: number;
  /**
   * Receives Python's stderr and anything it printed, chunk by chunk.
   * @default writes to process.stderr
   */
  onStderr?: (text: string) => void;
}

/** Options of one call. */
export interface CallOptions {
  /** Overrides the bridge's timeoutMs for this call. */
  timeoutMs?: number;
  /** Overrides the bridge's module for this call. */
  module?: string;
  /** Aborting ends the Python process (as a timeout does) and rejects the call. */
  signal?: AbortSignal;
}

// The slice of pythonia this file uses; its own typings make every value `any` and omit `com`.
interface PyBridgeModule {
  call$(
    module: string,
    method: string,
    argsJson: string,
    kwargs: { $timeout: number },
  ): Promise<unknown>;
  shutdown(): Promise<unknown>;
}

interface Pythonia {
  python: ((name: string) => Promise<PyBridgeModule>) & { exit(): void };
  builtins: { sendInspect(enabled: boolean): Promise<unknown> };
  com: { proc: ChildProcess | null };
}

type Failure = (make: (what: string) => BridgeError) => void;

interface Session {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly stderr: LineTail;
  readonly failures: Set<Failure>;
  readonly exited: Promise<ProcessEnd>;
  readonly stderrClosed: Promise<void>;
  readonly stderrSocket: StderrSocket | undefined;
  module: PyBridgeModule | undefined;
  /** False from the moment Node sees the process end. */
  alive: boolean;
  /** Set once the end is known in full (after the stderr drain). */
  end: ProcessEnd | undefined;
  pending: number;
}

const BRIDGE_MODULE = 'localssl.bridge';
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_START_TIMEOUT_MS = 30_000;
const SHUTDOWN_TIMEOUT_MS = 2_000;
const SIGKILL_AFTER_MS = 2_000;
const EXIT_WAIT_MS = 3_000;
// After 'exit', bytes Python wrote just before dying may still be in flight on the socket.
const STDERR_DRAIN_MS = 500;

let pythonia: Pythonia | undefined;
let activeBridge: PythonBridge | undefined;

function withEnv<T>(vars: Record<string, string>, run: () => T): T {
  const saved = Object.keys(vars).map((key) => [key, process.env[key]] as const);
  Object.assign(process.env, vars);
  try {
    return run();
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

// Waits for `promise` at most `ms`, without leaving a timer behind to hold Node open.
async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise, expiry]);
  } finally {
    clearTimeout(timer);
  }
}

// "Python was killed by SIGKILL during m.f (last stderr line: ...)"
function endMessage(end: ProcessEnd, when: string): string {
  const how =
    end.signal !== undefined ? `was killed by ${end.signal}` : `exited with code ${end.exitCode}`;
  const last = end.stderrTail.map((line) => line.trim()).findLast((line) => line !== '');
  return `Python ${how} ${when}${last === undefined ? '' : ` (last stderr line: ${last})`}`;
}

// pythonia's PythonException has an empty message; the Python error line sits in its stack.
function pythoniaDetail(error: unknown): string {
  const text = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
  const plain = stripVTControlCharacters(text);
  const marked = plain.split('\n').find((line) => line.includes('*** JS ***'));
  const line = marked?.replace(/.*\*\*\* JS \*\*\*\s*/, '') ?? plain.split('\n')[0] ?? '';
  return line.trim() || 'unknown pythonia error';
}

/**
 * One Python process behind pythonia, started on the first call, for short calls into modules
 * that register BRIDGE_METHODS. Only one PythonBridge may be open per Node process (pythonia is
 * a process-wide singleton); close() it to start another. Calls run one at a time.
 */
export class PythonBridge {
  readonly #python: string | undefined;
  readonly #module: string;
  readonly #pythonPath: readonly string[];
  readonly #timeoutMs: number;
  readonly #startTimeoutMs: number;
  readonly #onStderr: (text: string) => void;

  #session: Session | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  #generation = 0;
  #hooksInstalled = false;

  constructor(options: PythonBridgeOptions = {}) {
    this.#python = options.python;
    this.#module = options.module ?? 'localssl.api';
    this.#pythonPath = options.pythonPath ?? [];
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.#onStderr = options.onStderr ?? ((text) => process.stderr.write(text));
  }

  /** PID of the running Python process, if one is running. */
  get pid(): number | undefined {
    return this.#session?.alive ? this.#session.pid : undefined;
  }

  /** How many Python processes this bridge has started; it grows after a crash or timeout. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Calls `BRIDGE_METHODS[method]` of the module (default: the bridge's) with `args` and returns
   * its result validated by `schema`. Rejects with PythonError for a Python exception,
   * BridgeError E_BRIDGE_TIMEOUT / E_BRIDGE / E_BRIDGE_CLOSED, or PythonSetupError.
   */
  async call<T>(
    method: string,
    args: Record<string, unknown>,
    schema: z.ZodType<T>,
    options: CallOptions = {},
  ): Promise<T> {
    const module = options.module ?? this.#module;
    const what = `${module}.${method}`;
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    let argsJson: string;
    try {
      argsJson = JSON.stringify(args);
    } catch (error) {
      throw new BridgeError('E_BRIDGE', `arguments of ${what} are not JSON: ${String(error)}`, {
        cause: error,
      });
    }
    return this.#serialize(async () => {
      if (this.#closed) throw closedError(what);
      const session = await this.#ensureSession();
      const bridgeModule = session.module as PyBridgeModule;
      // `$timeout: Infinity` keeps pythonia's own timer off; #watch owns the time limit.
      const reply = bridgeModule.call$(module, method, argsJson, {
        $timeout: Number.POSITIVE_INFINITY,
      });
      const raw = await this.#watch(session, reply, what, timeoutMs, options.signal).catch(
        (error: unknown) => {
          if (error instanceof LocalsslError) throw error;
          const detail = pythoniaDetail(error);
          throw new BridgeError('E_BRIDGE', `${what} failed inside pythonia: ${detail}`, {
            cause: error,
          });
        },
      );
      return decodeReply(raw, schema, what);
    });
  }

  /** Ends Python (after letting it flush) and releases the process hooks; idempotent. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#closing = this.#shutDown();
    return this.#closing;
  }

  // A start still in progress is failed through the session's failures, not waited for.
  async #shutDown(): Promise<void> {
    const session = this.#session;
    if (session?.alive) {
      if (session.pending === 0 && session.module !== undefined) {
        const flushed = session.module.shutdown();
        await this.#watch(session, flushed, 'shutdown', SHUTDOWN_TIMEOUT_MS).catch(() => undefined);
      }
      for (const fail of session.failures) {
        fail((what) => closedError(what));
      }
      this.#drop(session);
      await waitAtMost(session.exited, EXIT_WAIT_MS);
    }
    this.#removeHooks();
    if (activeBridge === this) activeBridge = undefined;
  }

  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  // Only ever called from a serialized task, so two starts never overlap.
  async #ensureSession(): Promise<Session> {
    if (this.#session?.alive) return this.#session;
    return this.#start();
  }

  async #start(): Promise<Session> {
    const python = resolvePythonInterpreter(this.#python);
    if (activeBridge !== undefined && activeBridge !== this) {
      throw new BridgeError(
        'E_BRIDGE',
        'another PythonBridge is open in this process ' +
          '(pythonia runs one Python per process); close it first',
      );
    }
    activeBridge = this;
    this.#installHooks();
    let stderrSocket: StderrSocket | undefined;
    let session: Session | undefined;
    try {
      stderrSocket = await StderrSocket.open();
      if (this.#closed) throw closedError('starting Python');
      const env: Record<string, string> = {
        PYTHON_BIN: python,
        PYTHONPATH: pythonPathFor(this.#pythonPath),
        PYTHONUNBUFFERED: '1',
        REQ_TIMEOUT: '0',
        LOCALSSL_BRIDGE_HOST_PID: String(process.pid),
      };
      if (stderrSocket !== undefined) env.LOCALSSL_BRIDGE_STDERR_SOCKET = stderrSocket.path;

      let importing: Promise<PyBridgeModule> | undefined;
      const lib = withEnv(env, () => {
        const loaded = pythonia ?? (createRequire(import.meta.url)('pythonia') as Pythonia);
        pythonia = loaded;
        importing = loaded.python(BRIDGE_MODULE);
        return loaded;
      });
      const proc = lib.com.proc;
      if (proc === null || importing === undefined) {
        throw new BridgeError('E_BRIDGE', 'pythonia did not start a Python process');
      }
      session = this.#track(proc, stderrSocket);
      this.#generation += 1;

      const what = `starting ${python} (import ${BRIDGE_MODULE})`;
      session.module = await this.#watch(session, importing, what, this.#startTimeoutMs).catch(
        (error: unknown) => {
          // A timeout or close stays what it is; dying before the import is a setup problem.
          if (error instanceof BridgeError && error.end === undefined) throw error;
          const detail = error instanceof BridgeError ? error.message : pythoniaDetail(error);
          throw new PythonSetupError(
            `${python} cannot import ${BRIDGE_MODULE}: ${detail}; ` +
              'run `npm install` or set LOCALSSL_PYTHON',
          );
        },
      );
      // What python.setFastMode(true) sends, but awaited: setFastMode drops the promise.
      await this.#watch(session, lib.builtins.sendInspect(false), what, this.#startTimeoutMs);
      return session;
    } catch (error) {
      if (session !== undefined) this.#drop(session);
      stderrSocket?.dispose();
      if (activeBridge === this) activeBridge = undefined;
      throw error;
    }
  }

  #track(proc: ChildProcess, stderrSocket: StderrSocket | undefined): Session {
    let markStderrClosed = (): void => undefined;
    const stderrClosed = new Promise<void>((resolve) => {
      markStderrClosed = resolve;
    });
    let settleExit = (_end: ProcessEnd): void => undefined;
    const exited = new Promise<ProcessEnd>((resolve) => {
      settleExit = resolve;
    });
    const session: Session = {
      proc,
      pid: proc.pid ?? -1,
      stderr: new LineTail(50),
      failures: new Set(),
      exited,
      stderrClosed,
      stderrSocket,
      module: undefined,
      alive: true,
      end: undefined,
      pending: 0,
    };
    this.#session = session;
    stderrSocket?.expect(session.pid, {
      onText: (text) => {
        session.stderr.push(text);
        this.#onStderr(text);
      },
      onClose: markStderrClosed,
    });

    const finish = async (exitCode: number | undefined, signal: string | undefined) => {
      if (!session.alive) return;
      // Forget the dead process at once, so that a call made now starts a new one.
      session.alive = false;
      this.#drop(session);
      stderrSocket?.dispose();
      await waitAtMost(session.stderrClosed, STDERR_DRAIN_MS);
      const end: ProcessEnd = { exitCode, signal, stderrTail: session.stderr.lines() };
      session.end = end;
      for (const fail of session.failures) {
        fail((what) => new BridgeError('E_BRIDGE', endMessage(end, `during ${what}`), { end }));
      }
      settleExit(end);
    };
    proc.once('exit', (code, signal) => void finish(code ?? undefined, signal ?? undefined));
    // Spawn failures arrive as 'error' without 'exit'; write errors on a dead channel come as
    // 'error' too and are left to the 'exit' that follows them.
    proc.on('error', (error) => {
      if (proc.pid === undefined) {
        session.stderr.pushLine(error.message);
        void finish(undefined, undefined);
      }
    });
    (globalThis as { __pythonBridge?: { loop?: NodeJS.Timeout } }).__pythonBridge?.loop?.unref();
    proc.unref();
    proc.channel?.unref();
    return session;
  }

  // Settles with `work` unless the time limit, an abort or the end of Python comes first.
  #watch<T>(
    session: Session,
    work: Promise<T>,
    what: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = () => {
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        session.failures.delete(onFailure);
        this.#release(session);
      };
      const fail = (error: Error) => {
        if (done) return;
        settle();
        reject(error);
      };
      const onFailure: Failure = (make) => fail(make(what));
      const onAbort = () => {
        fail(
          new BridgeError('E_BRIDGE', `${what} was aborted; Python was stopped`, {
            cause: signal?.reason,
          }),
        );
        this.#drop(session);
      };

      this.#hold(session);
      session.failures.add(onFailure);
      if (Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => {
          fail(
            new BridgeError(
              'E_BRIDGE_TIMEOUT',
              `${what} did not answer within ${timeoutMs} ms; ` +
                'Python was stopped and the next call starts a new one',
            ),
          );
          this.#drop(session);
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
      const end = session.end;
      if (end !== undefined) {
        onFailure(() => new BridgeError('E_BRIDGE', endMessage(end, `before ${what}`), { end }));
      }

      work.then(
        (value) => {
          if (done) return;
          settle();
          resolve(value);
        },
        (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
      );
    });
  }

  // A pending call must keep Node alive; an idle bridge must not.
  #hold(session: Session): void {
    session.pending += 1;
    if (session.pending === 1) {
      session.proc.ref();
      session.proc.channel?.ref();
    }
  }

  #release(session: Session): void {
    session.pending -= 1;
    if (session.pending === 0) {
      session.proc.unref();
      session.proc.channel?.unref();
    }
  }

  // Ends this session's Python; the next call starts another.
  #drop(session: Session): void {
    if (this.#session === session) this.#session = undefined;
    if (pythonia !== undefined && pythonia.com.proc === session.proc) pythonia.python.exit();
    else if (session.alive) session.proc.kill('SIGTERM');
    if (session.alive) {
      setTimeout(() => {
        if (session.alive) session.proc.kill('SIGKILL');
      }, SIGKILL_AFTER_MS).unref();
    }
  }

  #onProcessExit = (): void => {
    const session = this.#session;
    if (session === undefined) return;
    this.#drop(session);
    session.stderrSocket?.dispose();
  };

  #onSignal = (signal: NodeJS.Signals): void => {
    if (process.listenerCount(signal) > 1) return;
    this.#closed = true;
    this.#onProcessExit();
    this.#removeHooks();
    process.kill(process.pid, signal);
  };

  #installHooks(): void {
    if (this.#hooksInstalled) return;
    this.#hooksInstalled = true;
    process.on('exit', this.#onProcessExit);
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
  }

  #removeHooks(): void {
    if (!this.#hooksInstalled) return;
    this.#hooksInstalled = false;
    process.off('exit', this.#onProcessExit);
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }
}

function closedError(what: string): BridgeError {
  return new BridgeError('E_BRIDGE_CLOSED', `${what} cannot run: the Python bridge is closed`);
}
