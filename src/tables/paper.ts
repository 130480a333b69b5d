import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PACKAGE_ROOT } from '../bridge/python-path.js';
import { describeIssue } from '../config/load.js';
import { datasetNames } from '../config/schema.js';
import { ConfigError } from '../errors.js';

/** The folder of the paper presets and of results.yaml. */
export const PAPER_DIR = join(PACKAGE_ROOT, 'configs', 'paper');

export const tableNames = ['main', 'ablation'] as const;
export type TableName = (typeof tableNames)[number];

const datasetSchema = z.enum(datasetNames);

const tableSchema = z.strictObject({
  title: z.string().min(1),
  datasets: z.array(datasetSchema).min(1),
  rows: z.array(z.strictObject({ method: z.string().min(1), label: z.string().min(1) })).min(1),
});

const cellSchema = z.strictObject({
  method: z.string().min(1),
  dataset: datasetSchema,
  paper: z.number().min(0).max(100).describe("The paper's linear-probe top-1, %"),
  preset: z.string().regex(/^[\w.+-]+\.yaml$/, 'a file name in configs/paper'),
  evidence: z.enum(['paper', 'third party, unverified']),
  notes: z.string(),
});

/** configs/paper/results.yaml: the paper's numbers per cell and the tables they form. */
export const paperResultsSchema = z
  .strictObject({
    protocol: z.record(z.string(), z.string()),
    tables: z.strictObject({ main: tableSchema, ablation: tableSchema }),
    cells: z.array(cellSchema).min(1),
  })
  .superRefine((doc, ctx) => {
    const seen = new Set<string>();
    for (const [i, cell] of doc.cells.entries()) {
      const id = cellId(cell);
      if (seen.has(id)) {
        ctx.addIssue({ code: 'custom', path: ['cells', i], message: `${id} is listed twice` });
      }
      seen.add(id);
    }
    for (const name of tableNames) {
      for (const row of doc.tables[name].rows) {
        for (const dataset of doc.tables[name].datasets) {
          const id = cellId({ method: row.method, dataset });
          if (!seen.has(id)) {
            ctx.addIssue({
              code: 'custom',
              path: ['tables', name],
              message: `needs the cell ${id}, which cells does not list`,
            });
          }
        }
      }
    }
  });

export type PaperResults = z.output<typeof paperResultsSchema>;
export type PaperCell = z.output<typeof cellSchema>;

/** One cell of one table: what to run and what the paper reports. */
export interface TableCell extends PaperCell {
  /** `<method>/<dataset>`. */
  id: string;
  /** The row label of the table. */
  label: string;
  /** Absolute path of the preset. */
  presetPath: string;
}

export function cellId(cell: { method: string; dataset: string }): string {
  return `${cell.method}/${cell.dataset}`;
}

/** Read and check configs/paper/results.yaml (or `file`); every preset it names must exist. */
export function loadPaperResults(file = join(PAPER_DIR, 'results.yaml')): PaperResults {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = paperResultsSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describeIssue(file, parsed.error));
  for (const [i, cell] of parsed.data.cells.entries()) {
    if (!existsSync(join(PAPER_DIR, cell.preset))) {
      throw new ConfigError(
        `${file}: cells.${i}.preset: no such file configs/paper/${cell.preset}`,
      );
    }
  }
  return parsed.data;
}

/** Filters of tableCells; an empty or absent list keeps everything. */
export interface CellFilter {
  datasets?: readonly string[];
  methods?: readonly string[];
}

/** The cells of a table in reading order (row by row), after the filters. */
export function tableCells(
  results: PaperResults,
  table: TableName,
  filter: CellFilter = {},
): TableCell[] {
  const layout = results.tables[table];
  const keep = (
    list: readonly string[] | undefined,
    value: string,
    what: string,
    all: string[],
  ) => {
    if (list === undefined || list.length === 0) return true;
    for (const wanted of list) {
      if (!all.includes(wanted)) {
        throw new ConfigError(`--${what} ${wanted}: not in the ${table} table (${all.join(', ')})`);
      }
    }
    return list.includes(value);
  };
  const methods = layout.rows.map((row) => row.method);
  const cells: TableCell[] = [];
  for (const row of layout.rows) {
    for (const dataset of layout.datasets) {
      if (!keep(filter.methods, row.method, 'method', methods)) continue;
      if (!keep(filter.datasets, dataset, 'dataset', layout.datasets)) continue;
      const cell = results.cells.find((c) => c.method === row.method && c.dataset === dataset)!;
      cells.push({
        ...cell,
        id: cellId(cell),
        label: row.label,
        presetPath: join(PAPER_DIR, cell.preset),
      });
    }
  }
  return cells;
}
