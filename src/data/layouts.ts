import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetName } from '../config/schema.js';

/**
 * Where each dataset's files sit under `data.root`, as the engine's loaders look for them
 * (python/localssl/data/{mnist,cifar10,stl10,tiny_imagenet}.py `locate`). Only names are
 * checked, never sizes or contents: this runs before every training run and must cost nothing;
 * `localssl data check` does the thorough check.
 */
interface Layout {
  /** Human name for messages. */
  title: string;
  /** Sub-folders the dataset may sit in under root ('' = root itself), in search order. */
  folders: readonly string[];
  /** Files any one of which says "the dataset is here". */
  markers: readonly string[];
  /** Files and folders (ending in /) a run reads: the training split and both probe splits. */
  needed: readonly string[];
}

const IDX_FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
];

const CIFAR_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}`).concat('test_batch');

const LAYOUTS: Record<Exclude<DatasetName, 'mnist' | 'fashion-mnist'>, readonly Layout[]> = {
  // The python pickles and the binary records are both accepted, as the loader does.
  cifar10: [
    {
      title: 'CIFAR-10 (python)',
      folders: ['', 'cifar-10-batches-py'],
      markers: ['data_batch_1'],
      needed: CIFAR_FILES,
    },
    {
      title: 'CIFAR-10 (binary)',
      folders: ['', 'cifar-10-batches-bin'],
      markers: ['data_batch_1.bin'],
      needed: CIFAR_FILES.map((f) => `${f}.bin`),
    },
  ],
  stl10: [
    {
      title: 'STL-10',
      folders: ['', 'stl10_binary'],
      markers: ['unlabeled_X.bin', 'train_X.bin'],
      needed: ['unlabeled_X.bin', 'train_X.bin', 'train_y.bin', 'test_X.bin', 'test_y.bin'],
    },
  ],
  'tiny-imagenet': [
    {
      title: 'Tiny ImageNet',
      folders: ['', 'tiny-imagenet-200'],
      markers: ['wnids.txt'],
      needed: ['wnids.txt', 'train/', 'val/'],
    },
  ],
};

/** The official folder name of each downloadable dataset, for messages. */
const EXPECTED_FOLDER: Record<keyof typeof LAYOUTS, string> = {
  cifar10: 'cifar-10-batches-py/ (or cifar-10-batches-bin/)',
  stl10: 'stl10_binary/',
  'tiny-imagenet': 'tiny-imagenet-200/',
};

function present(path: string, folder: boolean): boolean {
  if (!existsSync(path)) return false;
  return statSync(path).isDirectory() === folder;
}

/** Whether `dataset` must be given a `data.root` (nothing ships with the package). */
export function needsRoot(dataset: DatasetName): dataset is keyof typeof LAYOUTS {
  return dataset in LAYOUTS;
}

/**
 * The first thing missing for a run on `dataset` under the existing folder `root`, as one line
 * naming it, or undefined when every file a run reads is there.
 */
export function layoutProblem(dataset: DatasetName, root: string): string | undefined {
  if (!needsRoot(dataset)) {
    const absent = IDX_FILES.find(
      (f) => !existsSync(join(root, f)) && !existsSync(join(root, `${f}.gz`)),
    );
    return absent === undefined ? undefined : `missing ${absent} for dataset ${dataset}`;
  }
  for (const layout of LAYOUTS[dataset]) {
    for (const folder of layout.folders) {
      if (!layout.markers.some((marker) => present(join(root, folder, marker), false))) continue;
      const absent = layout.needed.find(
        (need) => !present(join(root, folder, need.replace(/\/$/, '')), need.endsWith('/')),
      );
      if (absent === undefined) return undefined;
      const where = folder === '' ? absent : `${folder}/${absent}`;
      return (
        `missing ${where} for dataset ${dataset} (${layout.title}); ` +
        `\`localssl data check ${dataset} --root ${root}\` reports every problem`
      );
    }
  }
  return (
    `no ${LAYOUTS[dataset][0]!.title.replace(/ \(.*\)$/, '')} found: expected ` +
    `${EXPECTED_FOLDER[dataset]} in it; \`localssl data download ${dataset} --root ${root}\` ` +
    'fetches it'
  );
}
