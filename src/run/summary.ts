import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { openRun, writeFileAtomic } from './run-dir.js';

export type RunStatus = 'running' | 'finished' | 'stopped' | 'failed';

/** A short human label for a config's rule, e.g. "local hinge, patch 4-4-4-2-2-1 pooling". */
export function describeRule(config: Config): string {
  const rule = config.rule;
  const pooling =
    rule.pooling.kind === 'patch'
      ? `patch ${rule.pooling.kernels.join('-')} pooling`
      : `${rule.pooling.kind === 'none' ? 'no' : 'global'} pooling`;
  if (rule.kind === 'forward-forward') return `forward-forward, ${pooling}`;
  const flow = `${rule.gradientFlow} ${rule.score.f}, ${pooling}`;
  if (rule.kind === 'clapp-2021') return `CLAPP 2021 (${flow})`;
  return rule.gradientFlow === 'local' ? `${flow}, context ${rule.context}` : flow;
}

function previousStatus(dir: string): RunStatus {
  try {
    const previous = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as {
      status?: RunStatus;
    };
    return previous.status ?? 'running';
  } catch {
    return 'running';
  }
}

/**
 * Rewrite summary.json from what the run directory holds now; without a status, the previous
 * one is kept (a probe does not change whether training finished or stopped).
 */
export function writeSummary(dir: string, status?: RunStatus, error?: string): void {
  const run = openRun(dir);
  status ??= previousStatus(dir);
  const summary = {
    name: run.config.name,
    status,
    rule: describeRule(run.config),
    dataset: run.config.data.dataset,
    checkpoints: run.checkpoints,
    train: run.train ?? null,
    probe: run.probe ?? null,
    probeRandom: run.probeRandom ?? null,
    error: error ?? null,
    updated: new Date().toISOString(),
  };
  writeFileAtomic(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
}
