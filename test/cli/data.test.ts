import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PACKAGE_ROOT } from '../../src/bridge/python-path.js';
import { formatDataCheck } from '../../src/cli/commands/data.js';
import { checkData } from '../../src/data/manage.js';
import { closeEngine, engine } from '../../src/engine.js';

const MAIN = join(PACKAGE_ROOT, 'src', 'cli', 'main.ts');

function localssl(args: string[]) {
  return execa('node', ['--import', 'tsx', MAIN, ...args], {
    reject: false,
    cwd: PACKAGE_ROOT,
    env: { FORCE_COLOR: '0' },
  });
}

/** A structured synthetic dataset in the real format, written by the engine. */
async function synthetic(dataset: string, images = 40): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), `localssl-${dataset}-`));
  await engine().call('write_synthetic', { dataset, root, images }, z.object({}).loose());
  return root;
}

afterAll(closeEngine);

describe('localssl data check', () => {
  it('lists every problem of a damaged CIFAR-10 on its own line, exit 3', async () => {
    const root = await synthetic('cifar10');
    rmSync(join(root, 'cifar-10-batches-py', 'data_batch_3'));
    const result = await localssl(['data', 'check', 'cifar10', '--root', root]);
    expect(result.exitCode).toBe(3);
    expect(result.stdout.split('\n')).toEqual([
      `cifar10 at ${root}: 6 problems (python layout)`,
      'cifar-10-batches-py/data_batch_1: 8 images, expected 10000',
      'cifar-10-batches-py/data_batch_2: 8 images, expected 10000',
      'cifar-10-batches-py/data_batch_3: missing',
      'cifar-10-batches-py/data_batch_4: 8 images, expected 10000',
      'cifar-10-batches-py/data_batch_5: 8 images, expected 10000',
      'cifar-10-batches-py/test_batch: 20 images, expected 10000',
    ]);
  });

  it('names a truncated STL-10 label file', async () => {
    const root = await synthetic('stl10');
    truncateSync(join(root, 'stl10_binary', 'train_y.bin'), 19);
    const report = await checkData('stl10', root, {
      expected: { counts: { train: 20, test: 20, unlabeled: 40 } },
    });
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual(['stl10_binary/train_y.bin: 19 bytes, expected 20']);
    const clean = await checkData('tiny-imagenet', await synthetic('tiny-imagenet'), {
      expected: { counts: { train: 40, val: 20, test: 4 }, num_classes: 5 },
    });
    expect(clean.ok).toBe(true);
  });

  it('says when there is no dataset at all', async () => {
    const root = mkdtempSync(join(tmpdir(), 'localssl-empty-'));
    const report = await checkData('tiny-imagenet', root);
    expect(formatDataCheck(report)).toEqual([
      `tiny-imagenet at ${root}: 1 problem`,
      `${root}: no Tiny ImageNet found: expected tiny-imagenet-200/wnids.txt`,
    ]);
  });
});

describe('localssl data download', () => {
  let server: Server;
  let baseUrl: string;
  let md5: string;

  beforeAll(async () => {
    // The official archive layout, built from synthetic batches and served over HTTP.
    const source = await synthetic('cifar10');
    const archive = join(source, 'cifar-10-python.tar.gz');
    await execa('tar', ['-czf', archive, '-C', source, 'cifar-10-batches-py']);
    const bytes = readFileSync(archive);
    md5 = createHash('md5').update(bytes).digest('hex');
    server = createServer((request, response) => {
      if (request.url !== '/cifar-10-python.tar.gz') {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { 'Content-Length': bytes.length }).end(bytes);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('downloads, verifies and extracts with progress, then finds it present', async () => {
    const root = mkdtempSync(join(tmpdir(), 'localssl-download-'));
    const args = ['data', 'download', 'cifar10', '--root', root, '--base-url', baseUrl];
    const result = await localssl([...args, '--md5', md5]);
    expect(result.stderr).not.toMatch(/localssl: /);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(join(root, 'cifar-10-batches-py'));
    expect(result.stderr).toMatch(/^cifar10: download [\d.]+ MB of [\d.]+ MB \(100 %\)$/m);
    expect(result.stderr).toMatch(/^cifar10: extract \d+ files$/m);

    const check = await checkData('cifar10', root, {
      expected: { counts: { train: 40, test: 20 } },
    });
    expect(check.errors).toEqual([]);
    const again = await localssl([...args, '--md5', md5]);
    expect([again.exitCode, again.stdout]).toEqual([0, join(root, 'cifar-10-batches-py')]);
  });

  it('refuses an archive whose md5 is not the expected one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'localssl-download-'));
    const wrong = '0'.repeat(32);
    const args = ['data', 'download', 'cifar10', '--root', root, '--base-url', baseUrl];
    const result = await localssl([...args, '--md5', wrong]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr.split('\n').at(-1)).toBe(
      `localssl: cifar-10-python.tar.gz: md5 mismatch: got ${md5}, expected ${wrong}; ` +
        'the download was deleted, run again',
    );
  });
});
