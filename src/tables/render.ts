import { renderTable } from '../report/table.js';
import type { CellResult, TableReport } from './reproduce.js';
import { formatDiff, formatStat } from './stats.js';

function layerNames(count: number): string {
  return Array.from({ length: count }, (_, i) => `L${i + 1}`).join(' ');
}

const DATASET_TITLES: Record<string, string> = {
  cifar10: 'CIFAR-10',
  stl10: 'STL-10',
  'tiny-imagenet': 'Tiny ImageNet',
  mnist: 'MNIST',
  'fashion-mnist': 'Fashion-MNIST',
};

function seedsCell(result: CellResult): string {
  const n = result.runs.length;
  const missing = result.missingSeeds.length;
  return missing === 0 ? String(n) : `${n} (${missing} missing)`;
}

function paperCell(result: CellResult): string {
  const value = result.cell.paper.toFixed(2);
  return result.cell.evidence === 'paper' ? value : `${value}*`;
}

/** The linear-probe table: paper, measured, difference, seeds and protocol per cell. */
export function renderLinearTable(report: TableReport): string {
  return renderTable(
    [
      { header: 'method' },
      { header: 'dataset' },
      { header: 'paper %', align: 'right' },
      { header: 'measured %', align: 'right' },
      { header: 'diff', align: 'right' },
      { header: 'best ep %', align: 'right' },
      { header: 'seeds', align: 'right' },
      { header: 'protocol (measured)' },
    ],
    report.cells.map((r) => [
      r.cell.label,
      DATASET_TITLES[r.cell.dataset] ?? r.cell.dataset,
      paperCell(r),
      formatStat(r.linear),
      formatDiff(r.linear, r.cell.paper),
      formatStat(r.linearBest),
      seedsCell(r),
      r.protocol.linear,
    ]),
  );
}

/** k-NN and per-layer probes of every cell, each with its protocol; empty when none ran. */
export function renderBesideTable(report: TableReport): string {
  const cells = report.cells.filter((r) => r.knn.length > 0 || r.layers.length > 0);
  if (cells.length === 0) return '';
  const ks = [...new Set(cells.flatMap((r) => r.knn.map((entry) => entry.k)))];
  const layerCount = Math.max(0, ...cells.map((r) => r.layers.length));
  const protocol = (r: CellResult) =>
    [
      r.protocol.knn && `k-NN: ${r.protocol.knn}`,
      r.protocol.layers && `per layer: ${r.protocol.layers}`,
    ]
      .filter(Boolean)
      .join('; ');
  return renderTable(
    [
      { header: 'method' },
      { header: 'dataset' },
      ...ks.map((k) => ({ header: `k-NN k=${k} %`, align: 'right' as const })),
      {
        header: `per-layer probe % (${layerNames(layerCount)})`,
      },
      { header: 'protocol (measured)' },
    ],
    cells.map((r) => [
      r.cell.label,
      DATASET_TITLES[r.cell.dataset] ?? r.cell.dataset,
      ...ks.map((k) => formatStat(r.knn.find((entry) => entry.k === k)?.top1)),
      r.layers.length === 0 ? '-' : r.layers.map((s) => formatStat(s, 1)).join(' '),
      protocol(r),
    ]),
  );
}

/** The whole report as text: the scale banner, both tables and what is missing. */
export function renderReport(report: TableReport): string {
  const parts = [report.banner, '', `${report.title} (runs in ${report.runsDir})`, ''];
  parts.push(renderLinearTable(report));
  const beside = renderBesideTable(report);
  if (beside !== '') {
    parts.push(
      '',
      'Beside the linear probe: weighted k-NN on the same features, and one linear probe per layer',
      '',
      beside,
    );
  }
  const notes: string[] = [];
  if (report.cells.some((r) => r.cell.evidence !== 'paper')) {
    notes.push('* the paper number is third-party and unverified (configs/paper/results.yaml)');
  }
  notes.push(
    'paper % is last-or-best epoch as published (unknown which); measured % is the last epoch, ' +
      'best ep % the best epoch on test; diff = measured - paper.',
  );
  if (report.cells.some((r) => r.missingSeeds.length > 0)) {
    notes.push(
      report.stopped
        ? 'stopped before every cell was done; run the same command again to continue.'
        : 'cells with missing seeds have no finished run under the runs folder.',
    );
  }
  parts.push('', ...notes);
  return parts.join('\n');
}
