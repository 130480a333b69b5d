import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProgressReporter } from '../../src/report/progress.js';
import type { RunEvent } from '../../src/run/events.js';

function sink(tty: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & { isTTY?: boolean; columns?: number };
  stream.isTTY = tty;
  stream.columns = 200;
  return { stream, text: () => chunks.join('') };
}

const started = {
  event: 'started',
  time_ms: 0,
  run_dir: '/r',
  images: 64,
  steps_per_epoch: 2,
  batch_size: 32,
  epochs: 2,
  start_epoch: 0,
  device: 'cpu',
  device_name: 'cpu',
  precision: 'fp32',
  threads: 2,
} as RunEvent;
const step = {
  event: 'step',
  time_ms: 1,
  epoch: 1,
  step: 1,
  steps: 2,
  global_step: 1,
  loss: 1.5,
  layer_losses: [1.5],
  images_per_s: 32,
} as RunEvent;
const epoch = {
  event: 'epoch',
  time_ms: 2,
  epoch: 1,
  epochs: 2,
  loss: 1.25,
  layer_losses: [1.25],
  seconds: 2,
  images_per_s: 32,
} as RunEvent;

describe('ProgressReporter', () => {
  it('on a terminal, rewrites one status line with step, loss, speed and ETA', () => {
    const out = sink(true);
    const reporter = new ProgressReporter(out.stream, 'clapp-pp');
    reporter.onEvent(started);
    reporter.onEvent(step);
    // 3 steps of 32 images left at 32 images/s.
    expect(out.text()).toContain('\r\x1b[2Kclapp-pp: epoch 1/2 [########........] 1/2');
    expect(out.text()).toContain('loss 1.5000 32 img/s ETA 0:03');
    reporter.onEvent(epoch);
    expect(out.text()).toContain('clapp-pp: epoch 1/2  loss 1.2500  32 img/s  2.0 s\n');
  });

  it('elsewhere, writes plain lines and no status line', () => {
    const out = sink(false);
    const reporter = new ProgressReporter(out.stream, 'bp');
    reporter.onEvent(started);
    reporter.onEvent(step);
    reporter.onEvent(epoch);
    expect(out.text()).not.toContain('\r');
    expect(out.text().trim().split('\n')).toHaveLength(2);
  });
});
