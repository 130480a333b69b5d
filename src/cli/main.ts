#!/usr/bin/env node
/** The `localssl` command: a thin yargs layer over the library in src/. */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { presetNames } from '../config/presets.js';
import { closeEngine } from '../engine.js';
import { LocalsslError } from '../errors.js';
import { alignCommand } from './commands/align.js';
import { dataCommands } from './commands/data.js';
import { demoCommand } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { probeCommand } from './commands/probe.js';
import { tableCommand, tableOptions } from './commands/table.js';
import { theoryChoices, theoryCommand } from './commands/theory.js';
import { resumeCommand, trainCommand, trainOptions } from './commands/train.js';
import { reportError } from './output.js';

function common(y: Argv) {
  return y
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON' })
    .option('verbose', { type: 'boolean', default: false, describe: "Show the engine's log" });
}

/** Parse argv, run one command, and resolve to the exit status. */
export async function main(argv: string[]): Promise<number> {
  let status = 0;
  const run = (work: () => Promise<number>) => async () => {
    status = await work();
  };

  const cli = yargs(argv)
    .scriptName('localssl')
    .usage('$0 <command> [options]')
    .command(
      'train <config>',
      'Train an encoder with the learning rule of a config file',
      (y) => common(trainOptions(y)),
      (args) => run(() => trainCommand(args as never))(),
    )
    .command(
      'resume <run>',
      'Continue a run from its latest checkpoint',
      (y) => common(y.positional('run', { type: 'string', demandOption: true })),
      (args) => run(() => resumeCommand(args as never))(),
    )
    .command(
      'probe <run>',
      "Linear probe of a run's frozen encoder",
      (y) =>
        common(
          y
            .positional('run', { type: 'string', demandOption: true, describe: 'Run directory' })
            .option('checkpoint', {
              type: 'string',
              default: 'latest',
              describe: "'latest', an epoch number, or 'none' for the random-init encoder",
            }),
        ),
      (args) => run(() => probeCommand(args as never))(),
    )
    .command(
      'align <runs..>',
      "Compare each layer's local update with backprop's, for one or more runs",
      (y) =>
        common(
          y
            .positional('runs', { type: 'string', array: true, demandOption: true })
            .option('checkpoint', {
              type: 'string',
              default: 'latest',
              describe: "'latest' or an epoch",
            })
            .option('batches', {
              type: 'number',
              default: 8,
              describe: 'Fixed batches to average over',
            })
            .option('out', { type: 'string', describe: 'Folder for the comparison plots' }),
        ),
      (args) => run(() => alignCommand(args as never))(),
    )
    .command(
      'theory <experiment>',
      'Deep linear networks where local updates equal backprop (paper figures 2-4, theorems)',
      (y) =>
        common(
          y
            .positional('experiment', { choices: theoryChoices, demandOption: true })
            .option('scale', { choices: ['paper', 'smoke'] as const, default: 'paper' as const })
            .option('seed', { type: 'number', default: 0 })
            .option('out', {
              type: 'string',
              describe: 'Output folder (default runs/theory-<experiment>-<scale>)',
            }),
        ),
      (args) => run(() => theoryCommand(args as never))(),
    )
    .command(
      'doctor',
      'Show the Python interpreter, torch, CUDA and device',
      (y) => common(y),
      (args) => run(() => doctorCommand(args as never))(),
    )
    .command(
      'demo',
      'Train CLAPP++ and BP-CLAPP++ on MNIST (small), probe both and a random-init encoder',
      (y) =>
        common(y)
          .option('rules', {
            type: 'string',
            coerce: (text: string) => text.split(',').map((s) => s.trim()),
            describe: `Comma-separated presets (${presetNames().join(', ')})`,
          })
          .option('set', {
            type: 'string',
            array: true,
            default: [] as string[],
            describe: 'Override a key of every preset: --set train.epochs=3',
          })
          .option('runs-dir', { type: 'string', default: 'runs' }),
      (args) => run(() => demoCommand(args as never))(),
    )
    .command(
      'table <table>',
      "Fill a table of the paper (main or ablation) and print it beside the paper's numbers",
      (y) => common(tableOptions(y)),
      (args) => run(() => tableCommand(args as never))(),
    )
    .command('data', 'Check or download CIFAR-10, STL-10 and Tiny ImageNet', (y) =>
      dataCommands(common(y), run),
    )
    .demandCommand(1, 'name a command: train, resume, probe, doctor, demo, table or data')
    .strict()
    .wrap(100)
    .fail((message, error) => {
      throw error ?? new LocalsslError('E_USAGE', message);
    })
    .help();

  try {
    await cli.parseAsync();
  } catch (error) {
    status = reportError(error);
  } finally {
    await closeEngine();
  }
  return status;
}

process.exitCode = await main(hideBin(process.argv));
