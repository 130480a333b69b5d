import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseOverride } from '../../src/config/load.js';
import { withDataRoot } from '../../src/data/roots.js';
import { LocalsslError } from '../../src/errors.js';
import { PAPER_DIR } from '../../src/tables/paper.js';

function preset(file: string, root: string | null) {
  return loadConfig(join(PAPER_DIR, file), [parseOverride(`data.root=${JSON.stringify(root)}`)]);
}

/** Empty files with the given names under `root`: the pre-flight check reads names only. */
function touch(root: string, files: string[]): string {
  for (const file of files) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    if (file.endsWith('/')) mkdirSync(join(root, file), { recursive: true });
    else writeFileSync(join(root, file), '');
  }
  return root;
}

function failure(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LocalsslError);
    expect((error as LocalsslError).code).toBe('E_DATA');
    return (error as Error).message;
  }
  throw new Error('expected a data error');
}

const STL = ['unlabeled_X.bin', 'train_X.bin', 'train_y.bin', 'test_X.bin', 'test_y.bin'];
const CIFAR = ['data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4', 'data_batch_5'];

describe('withDataRoot for the datasets that need a root', () => {
  it('asks for data.root or a download when it is null', () => {
    expect(failure(() => withDataRoot(preset('clapp-pp-stl10.yaml', null)))).toBe(
      'data.root is null, but stl10 does not ship with localssl: set data.root ' +
        '(--set data.root=DIR) or run `localssl data download stl10 --root DIR`',
    );
  });

  it('names a missing folder with the command that creates it', () => {
    expect(failure(() => withDataRoot(preset('clapp-pp-cifar10.yaml', '/no/such')))).toBe(
      'data.root /no/such: no such folder (`localssl data download cifar10 --root /no/such` ' +
        'creates it)',
    );
  });

  it('names the first missing file, under either folder layout', () => {
    const root = mkdtempSync(join(tmpdir(), 'localssl-roots-'));
    touch(
      root,
      STL.slice(0, 4).map((f) => `stl10_binary/${f}`),
    );
    expect(failure(() => withDataRoot(preset('clapp-pp-stl10.yaml', root)))).toBe(
      `data.root ${root}: missing stl10_binary/test_y.bin for dataset stl10 (STL-10); ` +
        `\`localssl data check stl10 --root ${root}\` reports every problem`,
    );
    const flat = mkdtempSync(join(tmpdir(), 'localssl-roots-'));
    touch(flat, [...CIFAR.map((f) => `${f}.bin`)]);
    expect(failure(() => withDataRoot(preset('bp-infonce-cifar10.yaml', flat)))).toBe(
      `data.root ${flat}: missing test_batch.bin for dataset cifar10 (CIFAR-10 (binary)); ` +
        `\`localssl data check cifar10 --root ${flat}\` reports every problem`,
    );
  });

  it('says when nothing of the dataset is there', () => {
    const root = mkdtempSync(join(tmpdir(), 'localssl-roots-'));
    expect(failure(() => withDataRoot(preset('clapp-pp-tiny-imagenet.yaml', root)))).toBe(
      `data.root ${root}: no Tiny ImageNet found: expected tiny-imagenet-200/ in it; ` +
        `\`localssl data download tiny-imagenet --root ${root}\` fetches it`,
    );
  });

  it('accepts a complete layout and resolves the root', () => {
    const root = mkdtempSync(join(tmpdir(), 'localssl-roots-'));
    touch(root, [
      'tiny-imagenet-200/wnids.txt',
      'tiny-imagenet-200/train/',
      'tiny-imagenet-200/val/',
    ]);
    touch(
      root,
      [...CIFAR, 'test_batch'].map((f) => `cifar-10-batches-py/${f}`),
    );
    touch(
      root,
      STL.map((f) => `stl10_binary/${f}`),
    );
    for (const file of [
      'clapp-pp-tiny-imagenet.yaml',
      'clapp-pp-cifar10.yaml',
      'clapp-pp-stl10.yaml',
    ]) {
      expect(withDataRoot(preset(file, root)).data.root).toBe(root);
    }
  });
});
