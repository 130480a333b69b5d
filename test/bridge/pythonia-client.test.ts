import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DEFAULT_VENV_PYTHON,
  PACKAGE_ROOT,
  PythonBridge,
  pyNumber,
} from '../../src/bridge/index.js';
import { BridgeError, PythonError, PythonSetupError } from '../../src/errors.js';
import { isRunning, waitFor } from './processes.js';

const FIXTURES = join(PACKAGE_ROOT, 'test', 'fixtures', 'python');
const TSX_LOADER = pathToFileURL(
  join(PACKAGE_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs'),
).href;
const BRIDGE_INDEX = join(PACKAGE_ROOT, 'src', 'bridge', 'index.ts');
const scratch = mkdtempSync(join(tmpdir(), 'localssl-bridge-test-'));

const echoSchema = z.object({ text: z.string(), nested: z.object({ list: z.array(z.number()) }) });
const pidSchema = z.number().int();

let stderr = '';
const opened: PythonBridge[] = [];

function bridge(options: ConstructorParameters<typeof PythonBridge>[0] = {}): PythonBridge {
  const created = new PythonBridge({
    module: 'bridge_fixture',
    pythonPath: [FIXTURES],
    onStderr: (text) => {
      stderr += text;
    },
    ...options,
  });
  opened.push(created);
  return created;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

// A Node host script in a process of its own (node with tsx's loader, so that signals reach it
// directly), to observe what a real host sees. `any` stands in for a zod schema there.
function hostScript(name: string, body: string): string[] {
  const path = join(scratch, `${name}.mts`);
  const header = [
    `import { PythonBridge } from ${JSON.stringify(pathToFileURL(BRIDGE_INDEX).href)};`,
    'const any = { safeParse: (data) => ({ success: true, data }) };',
    "const bridge = new PythonBridge({ module: 'bridge_fixture', " +
      `pythonPath: [${JSON.stringify(FIXTURES)}] });`,
  ].join('\n');
  writeFileSync(path, `${header}\n${body}\n`);
  return ['--import', TSX_LOADER, path];
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((each) => each.close()));
  stderr = '';
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('PythonBridge', () => {
  it('starts nothing until the first call', async () => {
    const lazy = bridge();
    expect(lazy.pid).toBeUndefined();
    expect((globalThis as { __pythonBridge?: unknown }).__pythonBridge).toBeUndefined();

    const pid = await lazy.call('pid', {}, pidSchema);
    expect(lazy.pid).toBe(pid);
    expect(lazy.generation).toBe(1);
  });

  it('round-trips arguments and results as JSON', async () => {
    const args = { text: 'héllo ✓', nested: { list: [1, 2.5, -3] } };
    await expect(bridge().call('echo', args, echoSchema)).resolves.toEqual(args);
  });

  it('turns a Python exception into a PythonError with type, message and traceback', async () => {
    const active = bridge();
    const error = await rejection(active.call('raise', { message: 'lr must be > 0' }, z.null()));

    expect(error).toBeInstanceOf(PythonError);
    const python = error as PythonError;
    expect(python.code).toBe('E_PYTHON');
    expect(python.pythonType).toBe('ValueError');
    expect(python.pythonMessage).toBe('lr must be > 0');
    expect(python.message).toBe('ValueError: lr must be > 0');
    expect(python.traceback).toContain('raise_value_error');
    await expect(active.call('echo', { ok: 1 }, z.object({ ok: z.number() }))).resolves.toEqual({
      ok: 1,
    });
  });

  it('refuses methods that are not registered in BRIDGE_METHODS', async () => {
    const error = await rejection(bridge().call('__init__', {}, z.unknown()));
    expect(error).toBeInstanceOf(PythonError);
    expect((error as PythonError).pythonType).toBe('LookupError');
  });

  it('parses NaN and infinities in a result into JS numbers', async () => {
    const schema = z.object({ loss: pyNumber, inf: pyNumber, ninf: pyNumber, finite: pyNumber });
    await expect(bridge().call('nan', {}, schema)).resolves.toEqual({
      loss: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      ninf: Number.NEGATIVE_INFINITY,
      finite: 0.5,
    });
  });

  it('rejects a result that does not match the schema', async () => {
    const error = await rejection(bridge().call('echo', { a: 1 }, z.object({ a: z.string() })));
    expect(error).toBeInstanceOf(BridgeError);
    expect((error as BridgeError).code).toBe('E_BRIDGE');
    expect((error as BridgeError).message).toMatch(/unexpected result: a: /);
  });

  it('returns large results', async () => {
    const values = await bridge().call('big', { n: 100_000 }, z.array(z.number()));
    expect(values).toHaveLength(100_000);
    expect(values[99_999]).toBe(49_999.5);
  });

  it('times out, stops the stuck Python and serves the next call from a new one', async () => {
    const active = bridge();
    const firstPid = await active.call('pid', {}, pidSchema);
    const started = Date.now();

    const stuck = active.call('sleep', { seconds: 30 }, z.unknown(), { timeoutMs: 500 });
    const queued = active.call('pid', {}, pidSchema);
    const error = await rejection(stuck);

    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error).toBeInstanceOf(BridgeError);
    expect((error as BridgeError).code).toBe('E_BRIDGE_TIMEOUT');
    expect((error as BridgeError).message).toContain(
      'bridge_fixture.sleep did not answer within 500 ms',
    );
    const secondPid = await queued;
    expect(secondPid).not.toBe(firstPid);
    expect(active.generation).toBe(2);
    expect(await waitFor(() => !isRunning(firstPid), 3_000)).toBe(true);
  });

  it('rejects within 5 s when Python is killed mid-call, with signal and stderr', async () => {
    const active = bridge();
    const firstPid = await active.call('pid', {}, pidSchema);
    const started = Date.now();

    const error = await rejection(
      active.call('exit_hard', { message: 'fixture: dying now' }, z.unknown(), {
        timeoutMs: 60_000,
      }),
    );

    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(BridgeError);
    const bridgeError = error as BridgeError;
    expect(bridgeError.code).toBe('E_BRIDGE');
    expect(bridgeError.message).toContain('was killed by SIGKILL during bridge_fixture.exit_hard');
    expect(bridgeError.message).toContain('last stderr line: fixture: dying now');
    expect(bridgeError.end?.signal).toBe('SIGKILL');
    expect(bridgeError.end?.stderrTail).toContain('fixture: dying now');

    const secondPid = await active.call('pid', {}, pidSchema);
    expect(secondPid).not.toBe(firstPid);
  });

  it('names the exit code when Python exits on its own', async () => {
    const error = await rejection(
      bridge().call(
        'exit_hard',
        { how: 'exit', code: 3, message: 'fatal: out of memory' },
        z.unknown(),
      ),
    );
    expect((error as BridgeError).message).toMatch(
      new RegExp(
        String.raw`^Python exited with code 3 during bridge_fixture\.exit_hard ` +
          String.raw`\(last stderr line: fatal: out of memory\)$`,
      ),
    );
    expect((error as BridgeError).end?.exitCode).toBe(3);
  });

  it('reports SystemExit in a method as a PythonError and keeps the same Python', async () => {
    const active = bridge();
    const pid = await active.call('pid', {}, pidSchema);
    const error = await rejection(active.call('system_exit', {}, z.unknown()));
    expect((error as PythonError).pythonType).toBe('SystemExit');
    await expect(active.call('pid', {}, pidSchema)).resolves.toBe(pid);
  });

  it('stops Python when a call is aborted', async () => {
    const active = bridge();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);

    const error = await rejection(
      active.call('sleep', { seconds: 30 }, z.unknown(), { signal: controller.signal }),
    );
    expect((error as BridgeError).code).toBe('E_BRIDGE');
    expect((error as BridgeError).message).toContain('bridge_fixture.sleep was aborted');
    await expect(active.call('echo', { x: 1 }, z.object({ x: z.number() }))).resolves.toEqual({
      x: 1,
    });
  });

  it('close() ends the Python process, is idempotent and refuses later calls', async () => {
    const active = bridge();
    const pid = await active.call('pid', {}, pidSchema);

    await active.close();
    expect(isRunning(pid)).toBe(false);
    await active.close();

    const error = await rejection(active.call('pid', {}, pidSchema));
    expect((error as BridgeError).code).toBe('E_BRIDGE_CLOSED');
  });

  it('close() rejects a call in flight', async () => {
    const active = bridge();
    await active.call('pid', {}, pidSchema);
    const outcome = rejection(active.call('sleep', { seconds: 30 }, z.unknown()));
    await new Promise((resolve) => setTimeout(resolve, 100));

    await active.close();
    const error = await outcome;
    expect((error as BridgeError).code).toBe('E_BRIDGE_CLOSED');
  });

  it('close() during the start ends the new Python and rejects the call', async () => {
    const active = bridge();
    const outcome = rejection(active.call('pid', {}, pidSchema));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await active.close();

    expect(((await outcome) as BridgeError).code).toBe('E_BRIDGE_CLOSED');
    expect(active.pid).toBeUndefined();
  });

  it('rejects arguments that are not JSON with one line', async () => {
    const error = await rejection(bridge().call('echo', { big: 1n }, z.unknown()));
    expect((error as BridgeError).code).toBe('E_BRIDGE');
    expect((error as BridgeError).message).toMatch(
      /^arguments of bridge_fixture\.echo are not JSON: /,
    );
  });

  it('allows one open bridge per process', async () => {
    const first = bridge();
    const second = bridge();
    await first.call('pid', {}, pidSchema);

    const error = await rejection(second.call('pid', {}, pidSchema));
    expect((error as BridgeError).message).toContain('another PythonBridge is open');

    await first.close();
    await expect(second.call('pid', {}, pidSchema)).resolves.toBeGreaterThan(0);
  });

  it('forwards Python stdout and stderr to onStderr', async () => {
    await bridge().call('print_to_stdout', { text: 'hello from python' }, z.unknown());
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stderr).toContain('hello from python\n');
    expect(stderr).toContain('hello from python (fd 1)\n');
  });

  it('fails with a PythonSetupError when Python cannot import localssl.bridge', async () => {
    // -E -S: no PYTHONPATH, no site-packages, so neither the repo nor the editable install.
    const bare = join(scratch, 'bare-python');
    writeFileSync(bare, `#!/bin/sh\nexec ${JSON.stringify(DEFAULT_VENV_PYTHON)} -E -S "$@"\n`);
    chmodSync(bare, 0o755);

    const error = await rejection(bridge({ python: bare }).call('pid', {}, pidSchema));
    expect(error).toBeInstanceOf(PythonSetupError);
    expect((error as PythonSetupError).message).toBe(
      `${bare} cannot import localssl.bridge: ModuleNotFoundError: No module named 'localssl'; ` +
        'run `npm install` or set LOCALSSL_PYTHON',
    );
    await expect(bridge().call('pid', {}, pidSchema)).resolves.toBeGreaterThan(0);
  });

  it('fails with one clear PythonSetupError when the interpreter does not exist', async () => {
    const error = await rejection(
      bridge({ python: '/nonexistent/bin/python' }).call('pid', {}, pidSchema),
    );
    expect(error).toBeInstanceOf(PythonSetupError);
    expect((error as PythonSetupError).message).toBe(
      'no Python environment at /nonexistent/bin/python (from the python option); ' +
        'run `npm install` or set LOCALSSL_PYTHON',
    );
  });
});

describe('PythonBridge in a host process', () => {
  it('keeps Python output off stdout and lets a host that never calls close() exit', async () => {
    const script = hostScript(
      'no-close',
      [
        `const result = await bridge.call('print_to_stdout', { text: 'python says hi' }, any);`,
        `console.log(JSON.stringify({ host: 'done', pid: result.pid }));`,
      ].join('\n'),
    );
    const started = Date.now();
    const host = await execa(process.execPath, script, { timeout: 20_000, reject: false });

    expect(host.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    const lines = host.stdout.split('\n');
    expect(lines).toHaveLength(1);
    const { pid } = JSON.parse(lines[0] ?? '') as { pid: number };
    expect(host.stderr).toContain('python says hi');
    expect(await waitFor(() => !isRunning(pid), 3_000)).toBe(true);
  }, 30_000);

  it('re-raises SIGINT after ending Python when the host has no handler of its own', async () => {
    const script = hostScript(
      'sigint-default',
      [
        `console.log(await bridge.call('pid', {}, any));`,
        `await bridge.call('sleep', { seconds: 30 }, any);`,
      ].join('\n'),
    );
    const host = execa(process.execPath, script, { timeout: 20_000, reject: false, buffer: false });
    const pid = await watchOutput(host.stdout).pid;
    host.kill('SIGINT');
    const done = await host;

    expect(done.signal).toBe('SIGINT');
    expect(await waitFor(() => !isRunning(pid), 3_000)).toBe(true);
  }, 30_000);

  it('leaves SIGINT to a host that handles it; Python still ends when the host exits', async () => {
    const script = hostScript(
      'sigint-host',
      [
        `process.on('SIGINT', async () => {`,
        `  const again = await bridge.call('pid', {}, any);`,
        `  console.log('host handled SIGINT; python still answers ' + again);`,
        `  process.exit(0);`,
        `});`,
        `console.log(await bridge.call('pid', {}, any));`,
        `setInterval(() => undefined, 1000);`,
      ].join('\n'),
    );
    const host = execa(process.execPath, script, { timeout: 20_000, reject: false, buffer: false });
    const output = watchOutput(host.stdout);
    const pid = await output.pid;
    host.kill('SIGINT');
    const done = await host;

    expect(done.exitCode).toBe(0);
    expect(output.text()).toContain(`host handled SIGINT; python still answers ${pid}`);
    expect(await waitFor(() => !isRunning(pid), 3_000)).toBe(true);
  }, 30_000);

  it('Python ends within seconds when its host is SIGKILLed mid-call', async () => {
    const script = hostScript(
      'killed-host',
      [
        `console.log(await bridge.call('pid', {}, any));`,
        `await bridge.call('sleep', { seconds: 60 }, any);`,
      ].join('\n'),
    );
    const host = execa(process.execPath, script, { timeout: 20_000, reject: false, buffer: false });
    const pid = await watchOutput(host.stdout).pid;
    await new Promise((resolve) => setTimeout(resolve, 200));
    host.kill('SIGKILL');
    await host;

    expect(await waitFor(() => !isRunning(pid), 5_000)).toBe(true);
  }, 30_000);
});

// Collects a host's stdout and resolves with the first line that is a number (a Python pid).
function watchOutput(stream: NodeJS.ReadableStream): { text: () => string; pid: Promise<number> } {
  let text = '';
  const pid = new Promise<number>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const line = text.split('\n').find((each) => /^\d+$/.test(each.trim()));
      if (line !== undefined) resolve(Number(line));
    });
    stream.on('end', () => reject(new Error(`host printed no pid: ${text}`)));
  });
  return { text: () => text, pid };
}
