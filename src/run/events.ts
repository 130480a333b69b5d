import { z } from 'zod';
import { pyNumber } from '../bridge/protocol.js';

const base = { time_ms: z.number() };
const layerLosses = z.array(pyNumber);

/** Every event a training or probing job emits, as the Python side writes it (events.py). */
export const runEventSchema = z.discriminatedUnion('event', [
  z.looseObject({
    event: z.literal('started'),
    ...base,
    run_dir: z.string(),
    images: z.number(),
    steps_per_epoch: z.number(),
    batch_size: z.number(),
    epochs: z.number(),
    start_epoch: z.number(),
    device: z.string(),
    device_name: z.string(),
    precision: z.string(),
    threads: z.number(),
  }),
  z.looseObject({
    event: z.literal('step'),
    ...base,
    epoch: z.number(),
    step: z.number(),
    steps: z.number(),
    global_step: z.number(),
    loss: pyNumber,
    layer_losses: layerLosses,
    images_per_s: pyNumber,
  }),
  z.looseObject({
    event: z.literal('epoch'),
    ...base,
    epoch: z.number(),
    epochs: z.number(),
    loss: pyNumber,
    layer_losses: layerLosses,
    seconds: z.number(),
    images_per_s: pyNumber,
  }),
  z.looseObject({
    event: z.literal('checkpoint'),
    ...base,
    epoch: z.number(),
    path: z.string(),
    partial: z.boolean(),
  }),
  z.looseObject({
    event: z.literal('finished'),
    ...base,
    epochs: z.number(),
    final_loss: pyNumber,
    train_seconds: z.number(),
    images_per_s: pyNumber,
  }),
  z.looseObject({
    event: z.literal('stopped'),
    ...base,
    epoch: z.number(),
    step: z.number(),
    checkpoint: z.string(),
  }),
  z.looseObject({
    event: z.literal('failed'),
    ...base,
    type: z.string(),
    message: z.string(),
    traceback: z.string(),
  }),
  z.looseObject({
    event: z.literal('alignment'),
    ...base,
    epoch: z.number(),
    step: z.number(),
    global_step: z.number(),
    cosines: z.array(pyNumber.nullable()),
    norm_ratios: z.array(pyNumber.nullable()),
    cost_ms: z.number(),
  }),
  z.looseObject({
    event: z.literal('align_started'),
    ...base,
    checkpoint: z.string(),
    batches: z.number(),
    layers: z.number(),
  }),
  z.looseObject({
    event: z.literal('align_batch'),
    ...base,
    batch: z.number(),
    batches: z.number(),
    cosines: z.array(pyNumber.nullable()),
  }),
  z.looseObject({
    event: z.literal('align_finished'),
    ...base,
    path: z.string(),
    seconds: z.number(),
  }),
  z.looseObject({
    event: z.literal('probe_started'),
    ...base,
    checkpoint: z.string(),
    feature_dim: z.number(),
    train_images: z.number(),
    test_images: z.number(),
    epochs: z.number(),
  }),
  z.looseObject({
    event: z.literal('probe_epoch'),
    ...base,
    epoch: z.number(),
    epochs: z.number(),
    loss: pyNumber,
    test_top1: pyNumber,
  }),
  z.looseObject({
    event: z.literal('probe_finished'),
    ...base,
    checkpoint: z.string(),
    test_top1: pyNumber,
    best_test_top1: pyNumber,
    best_epoch: z.number(),
    feature_dim: z.number(),
    seconds: z.number(),
  }),
]);

export type RunEvent = z.infer<typeof runEventSchema>;
export type EventOf<K extends RunEvent['event']> = Extract<RunEvent, { event: K }>;

/** The probe result the Python side writes to probe.json (probe-random.json for random init). */
export const probeResultSchema = z.looseObject({
  checkpoint: z.string(),
  test_top1: pyNumber,
  best_test_top1: pyNumber,
  best_epoch: z.number(),
  epochs: z.number(),
  feature_dim: z.number(),
  pools: z.array(z.number()),
  train_images: z.number(),
  test_images: z.number(),
  seconds: z.number(),
  protocol: z.looseObject({ layers: z.array(z.number()), reported: z.string() }),
});

export type ProbeResult = z.infer<typeof probeResultSchema>;

/** The training summary the Python side writes to train.json. */
export const trainResultSchema = z.looseObject({
  epochs: z.number(),
  global_step: z.number(),
  final_loss: pyNumber,
  train_seconds: z.number(),
  images_per_s: pyNumber,
  device: z.string(),
});

export type TrainResult = z.infer<typeof trainResultSchema>;
