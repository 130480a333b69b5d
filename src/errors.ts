/** Stable codes for every failure the CLI maps to an exit status and one line of text. */
export type ErrorCode =
  | 'E_CONFIG'
  | 'E_USAGE'
  | 'E_DATA'
  | 'E_RUN'
  | 'E_PYTHON_SETUP'
  | 'E_PYTHON'
  | 'E_BRIDGE'
  | 'E_BRIDGE_TIMEOUT'
  | 'E_BRIDGE_CLOSED'
  | 'E_JOB'
  | 'E_TENSOR';

/** Base class of every error localssl throws on purpose; `message` is one line for a person. */
export class LocalsslError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LocalsslError';
    this.code = code;
  }
}

/** A config file, an override or a CLI argument that does not fit the schema. */
export class ConfigError extends LocalsslError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_CONFIG', message, options);
    this.name = 'ConfigError';
  }
}

/** No usable Python, a Python too old, or a failed install step. */
export class PythonSetupError extends LocalsslError {
  readonly logPath: string | undefined;

  constructor(message: string, logPath?: string) {
    super('E_PYTHON_SETUP', logPath ? `${message} (full log: ${logPath})` : message);
    this.name = 'PythonSetupError';
    this.logPath = logPath;
  }
}

/** A Python exception raised inside a bridge call, with its type and traceback. */
export class PythonError extends LocalsslError {
  readonly pythonType: string;
  readonly pythonMessage: string;
  readonly traceback: string;

  constructor(pythonType: string, pythonMessage: string, traceback: string) {
    super('E_PYTHON', `${pythonType}: ${pythonMessage}`);
    this.name = 'PythonError';
    this.pythonType = pythonType;
    this.pythonMessage = pythonMessage;
    this.traceback = traceback;
  }
}

/** How a Python process ended, as far as Node saw it. */
export interface ProcessEnd {
  exitCode: number | undefined;
  signal: string | undefined;
  /** The last lines Python wrote to stderr, oldest first. */
  stderrTail: string[];
}

/** The bridge process died, timed out, was aborted or closed; `end` is set when it died. */
export class BridgeError extends LocalsslError {
  readonly end: ProcessEnd | undefined;

  constructor(
    code: 'E_BRIDGE' | 'E_BRIDGE_TIMEOUT' | 'E_BRIDGE_CLOSED',
    message: string,
    options?: { cause?: unknown; end?: ProcessEnd },
  ) {
    super(code, message, options);
    this.name = 'BridgeError';
    this.end = options?.end;
  }
}

/** A long job (`python -m localssl …`) that failed; carries its exit status and stderr tail. */
export class JobError extends LocalsslError {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stderrTail: string[];

  constructor(message: string, end: ProcessEnd, options?: { cause?: unknown }) {
    super('E_JOB', message, options);
    this.name = 'JobError';
    this.exitCode = end.exitCode;
    this.signal = end.signal;
    this.stderrTail = end.stderrTail;
  }
}
