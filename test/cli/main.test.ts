import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/bridge/python-path.js';

const GOOD = join(import.meta.dirname, '../fixtures/configs/good.yaml');
const MAIN = join(PACKAGE_ROOT, 'src', 'cli', 'main.ts');

function localssl(args: string[], env: Record<string, string> = {}) {
  return execa('node', ['--import', 'tsx', MAIN, ...args], {
    reject: false,
    cwd: PACKAGE_ROOT,
    env: { ...env, FORCE_COLOR: '0' },
  });
}

function emptyRunsDir(): string {
  return mkdtempSync(join(tmpdir(), 'localssl-cli-'));
}

describe('localssl CLI', () => {
  it.each(['train', 'probe', 'doctor', 'demo', 'resume'])('%s --help exits 0', async (command) => {
    const result = await localssl([command, '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`localssl ${command}`);
  });

  it('a bad config: one line with file and key, exit 2, no run directory', async () => {
    const runs = emptyRunsDir();
    const result = await localssl([
      'train',
      GOOD,
      '--set',
      'train.batchSize=0',
      '--runs-dir',
      runs,
    ]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      `localssl: ${GOOD}: train.batchSize: Too small: expected number to be >0`,
    );
    expect(result.stdout).toBe('');
    expect(readdirSync(runs)).toEqual([]);
  });

  it('a missing dataset path: one line, exit 3, no run directory', async () => {
    const runs = emptyRunsDir();
    const result = await localssl([
      'train',
      GOOD,
      '--set',
      'data.root=/no/such',
      '--runs-dir',
      runs,
    ]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toBe('localssl: data.root /no/such: no such folder');
    expect(readdirSync(runs)).toEqual([]);
  });

  it('no usable Python: one line, exit 4, no run directory', async () => {
    const runs = emptyRunsDir();
    const result = await localssl(['train', GOOD, '--runs-dir', runs], {
      LOCALSSL_PYTHON: '/no/such/python3',
    });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toBe(
      'localssl: no Python environment at /no/such/python3 (from LOCALSSL_PYTHON); ' +
        'run `npm install` or set LOCALSSL_PYTHON',
    );
    expect(readdirSync(runs)).toEqual([]);
  });

  it('an unknown command or option is a usage error', async () => {
    const result = await localssl(['train', GOOD, '--epochs', '3']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('localssl: Unknown argument: epochs');
  });

  it('doctor --json reports the interpreter, torch and the device', async () => {
    const result = await localssl(['doctor', '--json']);
    expect(result.exitCode).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.torch_version).toMatch(/^2\.13\.0/);
    expect(report.cuda_available).toBe(false);
    expect(report.threads).toBeGreaterThan(0);
    expect(['up-to-date', 'stale', 'external']).toContain(report.venv);
  });

  it('train --json then probe --json: results as JSON, nothing else on stdout', async () => {
    const runs = emptyRunsDir();
    const trained = await localssl([
      'train',
      GOOD,
      '--set',
      'train.maxStepsPerEpoch=3',
      '--runs-dir',
      runs,
      '--json',
    ]);
    expect(trained.exitCode, trained.stderr).toBe(0);
    const outcome = JSON.parse(trained.stdout);
    expect(outcome.status).toBe('finished');
    expect(existsSync(join(outcome.runDir, 'checkpoints', 'epoch-0001', 'state.safetensors'))).toBe(
      true,
    );

    const probed = await localssl(['probe', outcome.runDir, '--json', '--checkpoint', '1']);
    expect(probed.exitCode, probed.stderr).toBe(0);
    const result = JSON.parse(probed.stdout);
    expect(result.checkpoint).toBe('epoch-0001');
    expect(result.test_top1).toBeGreaterThan(10);
  });
});
