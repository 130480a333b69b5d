import { resolve } from 'node:path';
import { z } from 'zod';
import type { PythonBridge } from '../bridge/index.js';
import { runJob } from '../bridge/index.js';
import { pyNumber } from '../bridge/protocol.js';
import { engine } from '../engine.js';
import { LocalsslError, PythonError } from '../errors.js';

/** The datasets `localssl data` checks and downloads (the others ship with localssl or Debian). */
export const managedDatasets = ['cifar10', 'stl10', 'tiny-imagenet'] as const;
export type ManagedDataset = (typeof managedDatasets)[number];

/** What localssl.data.check.check_dataset reports. */
export const dataCheckSchema = z.object({
  dataset: z.string(),
  root: z.string(),
  folder: z.string().nullable(),
  layout: z.string().nullable(),
  ok: z.boolean(),
  errors: z.array(z.string()),
  warnings: z.array(z.string()),
  counts: z.record(z.string(), z.number()),
  md5_verified: z.array(z.string()),
  full: z.boolean(),
});

export type DataCheck = z.infer<typeof dataCheckSchema>;

export interface CheckDataOptions {
  /** Also verify md5s (CIFAR-10 python, STL-10) or decode every JPEG (Tiny ImageNet). */
  full?: boolean;
  /** Counts (and md5s) to check against instead of the official ones: tests, subsets. */
  expected?: { counts: Record<string, number>; md5?: Record<string, string>; num_classes?: number };
  bridge?: PythonBridge;
}

/**
 * Check a dataset on disk: layout, file sizes, image counts and labels, plus md5s or decoding
 * with `full`. Never throws for a broken dataset: the report lists every problem, one line each.
 */
export async function checkData(
  dataset: ManagedDataset,
  root: string,
  options: CheckDataOptions = {},
): Promise<DataCheck> {
  const bridge = options.bridge ?? engine();
  const full = options.full ?? false;
  try {
    return await bridge.call(
      'check_data',
      { dataset, root: resolve(root), full, expected: options.expected ?? null },
      dataCheckSchema,
      // Hashing STL-10's 2.7 GB or decoding 120k JPEGs takes minutes; the layout check, seconds.
      { timeoutMs: full ? Number.POSITIVE_INFINITY : 120_000 },
    );
  } catch (error) {
    if (error instanceof PythonError && error.pythonType === 'DatasetError') {
      throw new LocalsslError('E_DATA', error.pythonMessage);
    }
    throw error;
  }
}

/** One progress report of a download: bytes downloaded or verified, or members extracted. */
export const downloadProgressSchema = z.looseObject({
  event: z.literal('download_progress'),
  dataset: z.string(),
  stage: z.enum(['download', 'verify', 'extract']),
  done: z.number(),
  total: pyNumber.nullable(),
});

export type DownloadProgress = z.infer<typeof downloadProgressSchema>;

const downloadFinishedSchema = z.looseObject({
  event: z.literal('finished'),
  folder: z.string(),
  seconds: z.number(),
});

export interface DownloadOptions {
  /** A mirror replacing the official host; the archive's file name is appended. */
  baseUrl?: string;
  /** The archive's md5 when a mirror serves a different copy. @default the official md5 */
  md5?: string;
  keepArchive?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  onLog?: (line: string) => void;
  python?: string;
}

/**
 * Download, md5-check and extract a dataset's official archive into `root` (resumable; the
 * dataset folder appears complete or not at all). Resolves to the dataset folder.
 */
export async function downloadData(
  dataset: ManagedDataset,
  root: string,
  options: DownloadOptions = {},
): Promise<{ folder: string; seconds: number }> {
  const args = ['download', '--dataset', dataset, '--root', resolve(root)];
  if (options.baseUrl !== undefined) args.push('--base-url', options.baseUrl);
  if (options.md5 !== undefined) args.push('--md5', options.md5);
  if (options.keepArchive) args.push('--keep-archive');
  let finished: { folder: string; seconds: number } | undefined;
  const outcome = await runJob({
    args,
    ...(options.python === undefined ? {} : { python: options.python }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onStderr: options.onLog ?? (() => {}),
    onEvent: (event) => {
      const progress = downloadProgressSchema.safeParse(event);
      if (progress.success) options.onProgress?.(progress.data);
      const done = downloadFinishedSchema.safeParse(event);
      if (done.success) finished = { folder: done.data.folder, seconds: done.data.seconds };
    },
  });
  if (finished === undefined) {
    const why = outcome.aborted ? 'was stopped; run it again to resume' : 'ended without a folder';
    throw new LocalsslError('E_DATA', `download of ${dataset} into ${resolve(root)} ${why}`);
  }
  return finished;
}
