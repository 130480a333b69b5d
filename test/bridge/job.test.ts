import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { type JobEvent, PACKAGE_ROOT, pyNumber, runJob } from '../../src/bridge/index.js';
import { JobError, PythonSetupError } from '../../src/errors.js';
import { isRunning, waitFor } from './processes.js';

const FIXTURES = join(PACKAGE_ROOT, 'test', 'fixtures', 'python');
const TSX_LOADER = pathToFileURL(join(PACKAGE_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs'));
const BRIDGE_INDEX = pathToFileURL(join(PACKAGE_ROOT, 'src', 'bridge', 'index.ts'));
const scratch = mkdtempSync(join(tmpdir(), 'localssl-job-test-'));

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function fixture(args: string[], extra: Partial<Parameters<typeof runJob>[0]> = {}) {
  const events: JobEvent[] = [];
  const stderr: string[] = [];
  const job = runJob({
    module: 'job_fixture',
    pythonPath: [FIXTURES],
    args,
    onEvent: (event) => events.push(event),
    onStderr: (line) => stderr.push(line),
    ...extra,
  });
  return { job, events, stderr };
}

async function failure(promise: Promise<unknown>): Promise<JobError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(JobError);
    return error as JobError;
  }
  throw new Error('expected the job to fail');
}

describe('runJob', () => {
  it('streams events in order and resolves when the job finishes', async () => {
    const { job, events, stderr } = fixture(['run', '--steps', '3']);
    const result = await job;

    expect(result.exitCode).toBe(0);
    expect(result.signal).toBeUndefined();
    expect(result.stopped).toBe(false);
    expect(result.aborted).toBe(false);
    expect(result.warnings).toEqual([]);
    expect(events.map((event) => event.event)).toEqual([
      'started',
      'step',
      'step',
      'step',
      'finished',
    ]);
    expect(result.events).toEqual(events);
    expect(events.every((event) => typeof event.time_ms === 'number')).toBe(true);
    expect(stderr).toEqual(['log: step 1', 'log: step 2', 'log: step 3']);
  });

  it('keeps non-finite values as marker strings that pyNumber parses', async () => {
    const { job } = fixture(['run', '--steps', '2']);
    const steps = (await job).events.filter((event) => event.event === 'step');
    expect(steps.map((event) => event.loss)).toEqual([1, 'NaN']);
    expect(pyNumber.parse(steps[1]?.loss)).toBeNaN();
  });

  it('stops gracefully on abort: SIGINT, checkpoint, stopped event, exit 130', async () => {
    const controller = new AbortController();
    const { job, events } = fixture(['run', '--steps', '200', '--step-s', '0.05'], {
      signal: controller.signal,
      onEvent: (event) => {
        events.push(event);
        if (event.event === 'step' && event.step === 2) controller.abort();
      },
    });
    const result = await job;

    expect(result.stopped).toBe(true);
    expect(result.aborted).toBe(true);
    expect(result.exitCode).toBe(130);
    const names = events.map((event) => event.event);
    expect(names.slice(-2)).toEqual(['checkpoint', 'stopped']);
    expect(names.filter((name) => name === 'step').length).toBeLessThan(10);
  });

  it('escalates to SIGTERM and SIGKILL when the job ignores SIGINT', async () => {
    const controller = new AbortController();
    const { job, events } = fixture(
      ['run', '--steps', '500', '--step-s', '0.02', '--ignore-signals'],
      {
        signal: controller.signal,
        graceMs: 300,
        killAfterMs: 300,
        onEvent: (event) => {
          events.push(event);
          if (event.event === 'started') controller.abort();
        },
      },
    );
    const started = Date.now();
    const result = await job;

    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result.signal).toBe('SIGKILL');
    expect(result.stopped).toBe(false);
    expect(result.aborted).toBe(true);
  });

  it('fails with the last stderr line and the stderr tail when the job crashes', async () => {
    const error = await failure(fixture(['crash']).job);
    expect(error.code).toBe('E_JOB');
    expect(error.message).toBe('RuntimeError: fixture exploded');
    expect(error.exitCode).toBe(1);
    expect(error.stderrTail).toContain('log: loading data');
    expect(error.stderrTail.some((line) => line.includes('Traceback'))).toBe(true);
  });

  it('fails with the message of a failed event', async () => {
    const { job, events } = fixture(['fail']);
    const error = await failure(job);
    expect(error.message).toBe('loss became NaN at step 3');
    expect(error.stderrTail).toEqual(['log: about to fail']);
    expect(events.at(-1)?.event).toBe('failed');
  });

  it('reports invalid event lines as warnings instead of failing', async () => {
    const warnings: string[] = [];
    const { job } = fixture(['junk-events'], { onWarning: (message) => warnings.push(message) });
    const result = await job;

    expect(result.events.map((event) => event.event)).toEqual(['finished']);
    expect(result.warnings).toEqual(warnings);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toBe('event line is not JSON: this is not json');
    expect(warnings[1]).toMatch(/^event line is not an event \(event: /);
  });

  it('stops the job and rethrows when onEvent throws', async () => {
    const boom = new Error('listener failed');
    const job = runJob({
      module: 'job_fixture',
      pythonPath: [FIXTURES],
      args: ['run', '--steps', '500', '--step-s', '0.02'],
      onEvent: (event) => {
        if (event.event === 'step') throw boom;
      },
    });
    await expect(job).rejects.toBe(boom);
  });

  it('refuses to start with an already aborted signal', async () => {
    const error = await failure(fixture(['run'], { signal: AbortSignal.abort() }).job);
    expect(error.message).toBe('python -m job_fixture run was aborted before it started');
  });

  it('fails with one clear PythonSetupError when the interpreter does not exist', async () => {
    await expect(fixture(['run'], { python: '/nonexistent/python' }).job).rejects.toBeInstanceOf(
      PythonSetupError,
    );
  });

  it('never lets the job write to the host stdout', async () => {
    const script = join(scratch, 'stdout-host.mts');
    writeFileSync(
      script,
      [
        `import { runJob } from ${JSON.stringify(BRIDGE_INDEX.href)};`,
        "const result = await runJob({ module: 'job_fixture', " +
          `pythonPath: [${JSON.stringify(FIXTURES)}], args: ['run'], onEvent: () => undefined });`,
        `console.log('host: ' + result.events.length + ' events');`,
      ].join('\n'),
    );
    const host = await execa(process.execPath, ['--import', TSX_LOADER.href, script], {
      timeout: 20_000,
      reject: false,
    });
    expect(host.exitCode).toBe(0);
    expect(host.stdout).toBe('host: 5 events');
  }, 30_000);

  it('ends the job at once when the host is SIGKILLed (stdin lifeline)', async () => {
    const script = join(scratch, 'killed-host.mts');
    writeFileSync(
      script,
      [
        `import { runJob } from ${JSON.stringify(BRIDGE_INDEX.href)};`,
        `await runJob({ module: 'job_fixture', pythonPath: [${JSON.stringify(FIXTURES)}], ` +
          "args: ['hang'], onEvent: (event) => { " +
          "if (event.event === 'ready') console.log(event.pid); } });",
      ].join('\n'),
    );
    const host = execa(process.execPath, ['--import', TSX_LOADER.href, script], {
      timeout: 20_000,
      reject: false,
      buffer: false,
    });
    const pid = await new Promise<number>((resolve, reject) => {
      let text = '';
      host.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const line = text.split('\n').find((each) => /^\d+$/.test(each.trim()));
        if (line !== undefined) resolve(Number(line));
      });
      host.stdout.on('end', () => reject(new Error(`host printed no pid: ${text}`)));
    });
    expect(isRunning(pid)).toBe(true);

    host.kill('SIGKILL');
    await host;
    expect(await waitFor(() => !isRunning(pid), 3_000)).toBe(true);
  }, 30_000);
});
