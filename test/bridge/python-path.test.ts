import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_VENV_PYTHON,
  PACKAGE_ROOT,
  PYTHON_PACKAGE_DIR,
  resolvePythonInterpreter,
} from '../../src/bridge/index.js';
import { pythonPathFor } from '../../src/bridge/python-path.js';
import { PythonSetupError } from '../../src/errors.js';

const scratch = mkdtempSync(join(tmpdir(), 'localssl-python-path-'));
const fakePython = join(scratch, 'bin', 'fakepython');
mkdirSync(join(scratch, 'bin'));
writeFileSync(fakePython, '#!/bin/sh\n');
chmodSync(fakePython, 0o755);
const notExecutable = join(scratch, 'plain-file');
writeFileSync(notExecutable, '');

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function setupError(run: () => unknown): PythonSetupError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PythonSetupError);
    return error as PythonSetupError;
  }
  throw new Error('expected a PythonSetupError');
}

describe('resolvePythonInterpreter', () => {
  it('prefers the explicit argument over LOCALSSL_PYTHON', () => {
    vi.stubEnv('LOCALSSL_PYTHON', '/nonexistent/python');
    expect(resolvePythonInterpreter(fakePython)).toBe(fakePython);
  });

  it('uses LOCALSSL_PYTHON when no argument is given', () => {
    vi.stubEnv('LOCALSSL_PYTHON', fakePython);
    expect(resolvePythonInterpreter()).toBe(fakePython);
  });

  it('falls back to the package virtual environment', () => {
    vi.stubEnv('LOCALSSL_PYTHON', '');
    expect(resolvePythonInterpreter()).toBe(DEFAULT_VENV_PYTHON);
    expect(DEFAULT_VENV_PYTHON).toBe(join(PACKAGE_ROOT, 'python', '.venv', 'bin', 'python'));
  });

  it('looks bare names up on PATH', () => {
    vi.stubEnv('PATH', `/nonexistent${delimiter}${join(scratch, 'bin')}`);
    expect(resolvePythonInterpreter('fakepython')).toBe(fakePython);
  });

  it('throws one line naming the path and the fix when the explicit path is missing', () => {
    const error = setupError(() => resolvePythonInterpreter('/nonexistent/python'));
    expect(error.code).toBe('E_PYTHON_SETUP');
    expect(error.message).toBe(
      'no Python environment at /nonexistent/python (from the python option); ' +
        'run `npm install` or set LOCALSSL_PYTHON',
    );
  });

  it('does not fall through to another Python when LOCALSSL_PYTHON is wrong', () => {
    vi.stubEnv('LOCALSSL_PYTHON', '/nonexistent/python');
    const error = setupError(() => resolvePythonInterpreter());
    expect(error.message).toContain('(from LOCALSSL_PYTHON)');
  });

  it.each([
    ['a file that is not executable', notExecutable],
    ['a directory', scratch],
  ])('refuses %s', (_label, path) => {
    expect(setupError(() => resolvePythonInterpreter(path)).message).not.toContain('\n');
  });
});

describe('package paths', () => {
  it('finds the package root and its python/ folder', () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('localssl');
    expect(PYTHON_PACKAGE_DIR).toBe(join(PACKAGE_ROOT, 'python'));
  });

  it('puts the package first on PYTHONPATH, then extra dirs, then the inherited value', () => {
    expect(pythonPathFor(['/extra'], '/inherited')).toBe(
      [PYTHON_PACKAGE_DIR, '/extra', '/inherited'].join(delimiter),
    );
    expect(pythonPathFor([], '')).toBe(PYTHON_PACKAGE_DIR);
  });
});
