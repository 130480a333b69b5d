import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PythonSetupError } from '../errors.js';

/** Root of the localssl package: src/bridge/*.ts and dist/bridge/*.js both sit two levels down. */
export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** The folder holding the `localssl` Python package; it goes first on PYTHONPATH. */
export const PYTHON_PACKAGE_DIR = join(PACKAGE_ROOT, 'python');

/** The interpreter `npm install` sets up. */
export const DEFAULT_VENV_PYTHON =
  process.platform === 'win32'
    ? join(PYTHON_PACKAGE_DIR, '.venv', 'Scripts', 'python.exe')
    : join(PYTHON_PACKAGE_DIR, '.venv', 'bin', 'python');

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

// A bare name such as `python3` means a PATH lookup, as a shell would do it.
function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutableFile(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function verify(candidate: string, source: string): string {
  const bare = !candidate.includes('/') && !candidate.includes('\\');
  const path = bare ? findOnPath(candidate) : resolve(candidate);
  if (path === undefined || !isExecutableFile(path)) {
    const shown =
      bare || isAbsolute(candidate) ? candidate : `${candidate} (${resolve(candidate)})`;
    throw new PythonSetupError(
      `no Python environment at ${shown} (${source}); run \`npm install\` or set LOCALSSL_PYTHON`,
    );
  }
  return path;
}

/**
 * The Python interpreter to run: the explicit argument, else env LOCALSSL_PYTHON, else the
 * package's own python/.venv. A choice that names no executable file throws a one-line
 * PythonSetupError instead of falling through, so a typo never silently picks another Python.
 */
export function resolvePythonInterpreter(explicit?: string): string {
  if (explicit !== undefined && explicit !== '') return verify(explicit, 'from the python option');
  const fromEnv = process.env.LOCALSSL_PYTHON;
  if (fromEnv !== undefined && fromEnv !== '') return verify(fromEnv, 'from LOCALSSL_PYTHON');
  return verify(DEFAULT_VENV_PYTHON, 'the default virtual environment');
}

/** PYTHONPATH for a Python child: the package dir, `extra` dirs, then whatever was set before. */
export function pythonPathFor(
  extra: readonly string[] = [],
  inherited = process.env.PYTHONPATH,
): string {
  const parts = [PYTHON_PACKAGE_DIR, ...extra.map((dir) => resolve(dir))];
  if (inherited !== undefined && inherited !== '') parts.push(inherited);
  return parts.join(delimiter);
}
