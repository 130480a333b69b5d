import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { PythonBridge } from '../bridge/index.js';
import { loadConfig, type Override, parseOverride } from '../config/load.js';
import type { Config, DatasetName } from '../config/schema.js';
import type { TableCell } from './paper.js';

export const scaleNames = ['smoke', 'paper'] as const;
export type Scale = (typeof scaleNames)[number];

/**
 * The smoke scale: every cell at toy size on a CPU, on small generated files in each dataset's
 * real format (localssl.data.synthetic), so the whole path runs (loaders, cache, pre-flight
 * checks, training, probes, collection) in seconds per cell. Its numbers say nothing about the
 * paper.
 */
export const SMOKE = {
  /** Images of the self-supervised split; held-out and STL-10 labeled splits get half. */
  images: 64,
  widthMultiplier: 1 / 32,
  trainEpochs: 1,
  batchSize: 16,
  /** 50x the paper's: three steps at 2e-4 leave every encoder at its (shared) initialisation. */
  lr: 1e-2,
  probeEpochs: 5,
  seed: 0,
} as const;

function smokeOverrides(root: string): Override[] {
  return [
    `data.root=${JSON.stringify(root)}`,
    `model.widthMultiplier=${SMOKE.widthMultiplier}`,
    `train.epochs=${SMOKE.trainEpochs}`,
    `train.batchSize=${SMOKE.batchSize}`,
    `optimizer.lr=${SMOKE.lr}`,
    `probe.epochs=${SMOKE.probeEpochs}`,
    `probe.batchSize=${SMOKE.batchSize}`,
    'device=cpu',
    'precision=fp32',
  ].map(parseOverride);
}

/** A one-line description of a scale for the table's header. */
export function scaleBanner(scale: Scale): string {
  if (scale === 'smoke') {
    return (
      'SMOKE SCALE: a mechanics check on synthetic data, NOT a reproduction of the paper. ' +
      `Each dataset is ${SMOKE.images} generated images in its real file format (Tiny ` +
      `ImageNet with 5 classes); VGG-6 at ` +
      `width 1/${1 / SMOKE.widthMultiplier}, ${SMOKE.trainEpochs} epoch, ` +
      `probe ${SMOKE.probeEpochs} epochs, on the CPU. ` +
      'The measured numbers only show that every step runs.'
    );
  }
  return 'PAPER SCALE: the presets of configs/paper as they are (full width, 300 epochs; GPU).';
}

/** The config of one cell at one seed: the preset, shrunk for smoke, with its own name. */
export function cellConfig(
  cell: TableCell,
  scale: Scale,
  seed: number,
  dataRoot: string | undefined,
  threads: number | null = null,
): Config {
  const overrides: Override[] = [parseOverride(`seed=${seed}`)];
  if (threads !== null) overrides.push(parseOverride(`threads=${threads}`));
  if (scale === 'smoke') {
    overrides.push(...smokeOverrides(dataRoot!));
  } else if (dataRoot !== undefined) {
    overrides.push(parseOverride(`data.root=${JSON.stringify(resolve(dataRoot))}`));
  }
  const config = loadConfig(cell.presetPath, overrides);
  return scale === 'smoke' ? { ...config, name: `${config.name}-smoke` } : config;
}

/** The seeds of a cell: the paper's seed 2 first, then 3, 4, ... */
export function cellSeeds(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 2 + i);
}

const syntheticSchema = z.object({
  root: z.string(),
  folder: z.string(),
  written: z.boolean(),
  counts: z.record(z.string(), z.number()),
});

/** Where the smoke-scale synthetic copy of `dataset` lives: under `<runsDir>/synthetic/`. */
export function syntheticRootPath(dataset: DatasetName, runsDir: string): string {
  return join(resolve(runsDir), 'synthetic', `${dataset}-${SMOKE.images}-seed${SMOKE.seed}`);
}

/**
 * Write the smoke-scale synthetic copy of `dataset` unless it is there, and return its root:
 * the data.root of every smoke cell on that dataset.
 */
export async function writeSyntheticRoot(
  dataset: DatasetName,
  runsDir: string,
  bridge: PythonBridge,
): Promise<string> {
  const root = syntheticRootPath(dataset, runsDir);
  const written = await bridge.call(
    'write_synthetic',
    { dataset, root, images: SMOKE.images, seed: SMOKE.seed },
    syntheticSchema,
  );
  return written.root;
}
