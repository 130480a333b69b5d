import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { PythonSetupError } from '../errors.js';
import {
  DEFAULT_VENV_PYTHON,
  PACKAGE_ROOT,
  PYTHON_PACKAGE_DIR,
  pythonPathFor,
  resolvePythonInterpreter,
} from './python-path.js';

export const VENV_DIR = join(PYTHON_PACKAGE_DIR, '.venv');
export const SETUP_LOG = join(PYTHON_PACKAGE_DIR, '.setup', 'install.log');
const STAMP = join(VENV_DIR, '.localssl-stamp');
const MIN_PYTHON: [number, number] = [3, 10];
// Bump when the way the environment is built changes, so existing venvs are rebuilt.
const SETUP_FORMAT = 1;

export interface SetupResult {
  python: string;
  pythonVersion: string;
  action: 'external' | 'up-to-date' | 'created' | 'updated';
}

export type VenvState = 'external' | 'missing' | 'stale' | 'up-to-date';

function log(line: string): void {
  process.stderr.write(`localssl: ${line}\n`);
}

async function pythonVersion(python: string, source: string): Promise<string> {
  const probe = await execa(
    python,
    ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'],
    {
      reject: false,
    },
  );
  if (probe.failed || probe.exitCode !== 0) {
    const reason = probe.code === 'ENOENT' ? 'not found' : `failed (${probe.shortMessage})`;
    throw new PythonSetupError(`${source} ${python}: ${reason}`);
  }
  const version = probe.stdout.trim();
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    throw new PythonSetupError(
      `${source} ${python} is Python ${version}; localssl needs Python >= ${MIN_PYTHON.join('.')}`,
    );
  }
  return version;
}

/** What the venv must match: the dependency spec, the base Python and the setup format. */
function specHash(baseVersion: string, dev: boolean): string {
  const pyproject = readFileSync(join(PYTHON_PACKAGE_DIR, 'pyproject.toml'), 'utf8');
  return createHash('sha256')
    .update(`${SETUP_FORMAT}\n${baseVersion}\n${dev}\n${pyproject}`)
    .digest('hex');
}

/** Whether the project's own venv exists and matches the current dependency spec. */
export function venvState(): VenvState {
  if (process.env.LOCALSSL_PYTHON) return 'external';
  if (!existsSync(DEFAULT_VENV_PYTHON) || !existsSync(STAMP)) return 'missing';
  const stamp = JSON.parse(readFileSync(STAMP, 'utf8')) as { hash: string; base: string };
  return stamp.hash === specHash(stamp.base, isDevCheckout()) ? 'up-to-date' : 'stale';
}

// A git checkout with tests gets the test and lint tools too; an installed package does not.
function isDevCheckout(): boolean {
  return existsSync(join(PACKAGE_ROOT, 'test')) && existsSync(join(PACKAGE_ROOT, '.git'));
}

async function checkExternal(python: string): Promise<SetupResult> {
  const version = await pythonVersion(python, 'LOCALSSL_PYTHON');
  const probe = await execa(python, ['-c', 'import torch, numpy, safetensors'], {
    reject: false,
    env: { PYTHONPATH: pythonPathFor() },
  });
  if (probe.exitCode !== 0) {
    const last = probe.stderr.trim().split('\n').at(-1) ?? '';
    throw new PythonSetupError(
      `LOCALSSL_PYTHON ${python} cannot import localssl's dependencies (${last}); ` +
        'install torch==2.13.0 numpy safetensors into it',
    );
  }
  return { python, pythonVersion: version, action: 'external' };
}

/**
 * Make the Python side usable: with LOCALSSL_PYTHON, check that interpreter; otherwise create
 * python/.venv with `python3 -m venv` and install the package with its pinned dependencies.
 * A second run with an unchanged dependency spec does nothing.
 */
export async function setupPythonEnvironment(): Promise<SetupResult> {
  const external = process.env.LOCALSSL_PYTHON;
  if (external) return checkExternal(resolvePythonInterpreter(external));

  const base = process.env.LOCALSSL_BASE_PYTHON || 'python3';
  const baseVersion = await pythonVersion(base, 'base interpreter');
  const dev = isDevCheckout();
  const hash = specHash(baseVersion, dev);
  const state = venvState();
  if (state === 'up-to-date') {
    return { python: DEFAULT_VENV_PYTHON, pythonVersion: baseVersion, action: 'up-to-date' };
  }

  mkdirSync(join(PYTHON_PACKAGE_DIR, '.setup'), { recursive: true });
  writeFileSync(SETUP_LOG, `localssl setup, ${new Date().toISOString()}\n`);
  const step = async (what: string, file: string, args: string[]) => {
    log(`${what} ...`);
    const result = await execa(file, args, {
      reject: false,
      all: true,
      cwd: PYTHON_PACKAGE_DIR,
      env: { PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
    writeFileSync(SETUP_LOG, `\n$ ${file} ${args.join(' ')}\n${result.all ?? ''}\n`, {
      flag: 'a',
    });
    if (result.exitCode !== 0) {
      const lines = (result.all ?? '').split('\n').filter((l) => /error/i.test(l));
      const reason = lines.at(-1)?.trim() ?? result.shortMessage;
      throw new PythonSetupError(`${what} failed: ${reason}`, SETUP_LOG);
    }
  };

  const venvExisted = existsSync(DEFAULT_VENV_PYTHON);
  if (!venvExisted) {
    await step(`creating python/.venv with ${base} ${baseVersion}`, base, ['-m', 'venv', VENV_DIR]);
  }
  const target = dev ? '.[dev]' : '.';
  await step('installing the Python package and torch==2.13.0 (pinned)', DEFAULT_VENV_PYTHON, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--editable',
    target,
  ]);
  writeFileSync(STAMP, JSON.stringify({ hash, base: baseVersion }));
  return {
    python: DEFAULT_VENV_PYTHON,
    pythonVersion: baseVersion,
    action: venvExisted ? 'updated' : 'created',
  };
}
