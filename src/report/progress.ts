import type { RunEvent } from '../run/events.js';
import { clock, fixed } from './table.js';

const BAR_WIDTH = 16;

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * Renders job events for a person: one rewritten status line on a terminal (epoch, step, loss,
 * images/s, ETA), plain lines per epoch elsewhere so logs stay readable.
 */
export class ProgressReporter {
  readonly #out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly #label: string;
  #epochs = 1;
  #steps = 1;
  #startEpoch = 0;
  #batch = 1;
  #live = false;

  constructor(out: NodeJS.WritableStream & { isTTY?: boolean }, label: string) {
    this.#out = out;
    this.#label = label;
  }

  get #tty(): boolean {
    return this.#out.isTTY === true;
  }

  #line(text: string): void {
    if (this.#live) this.#out.write('\r\x1b[2K');
    this.#live = false;
    this.#out.write(`${text}\n`);
  }

  #status(text: string): void {
    // A pseudo-terminal can report 0 columns: then nothing is cut.
    const columns = this.#out.columns ?? 0;
    const width = columns > 0 ? columns - 1 : text.length;
    this.#out.write(`\r\x1b[2K${text.slice(0, width)}`);
    this.#live = true;
  }

  onEvent(event: RunEvent): void {
    const tag = this.#label;
    switch (event.event) {
      case 'started':
        this.#epochs = event.epochs;
        this.#steps = event.steps_per_epoch;
        this.#startEpoch = event.start_epoch;
        this.#batch = event.batch_size;
        this.#line(
          `${tag}: training on ${event.images} images, ${plural(event.epochs, 'epoch')} of ` +
            `${event.steps_per_epoch} steps, ${event.device} ` +
            `(${event.precision}, ${event.threads} threads)`,
        );
        break;
      case 'step': {
        if (!this.#tty) break;
        const done = (event.epoch - 1 - this.#startEpoch) * this.#steps + event.step;
        const total = (this.#epochs - this.#startEpoch) * this.#steps;
        const filled = Math.round((event.step / event.steps) * BAR_WIDTH);
        const bar = '#'.repeat(filled) + '.'.repeat(BAR_WIDTH - filled);
        const eta = ((total - done) * this.#batch) / event.images_per_s;
        this.#status(
          `${tag}: epoch ${event.epoch}/${this.#epochs} [${bar}] ${event.step}/${event.steps}` +
            ` loss ${fixed(event.loss, 4)} ${fixed(event.images_per_s, 0)} img/s` +
            ` ETA ${clock(eta)}`,
        );
        break;
      }
      case 'epoch':
        this.#line(
          `${tag}: epoch ${event.epoch}/${event.epochs}  loss ${fixed(event.loss, 4)}  ` +
            `${fixed(event.images_per_s, 0)} img/s  ${fixed(event.seconds, 1)} s`,
        );
        break;
      case 'stopped':
        this.#line(
          `${tag}: stopped at epoch ${event.epoch}, step ${event.step}; ` +
            `checkpoint ${event.checkpoint}`,
        );
        break;
      case 'finished':
        this.#line(
          `${tag}: finished ${plural(event.epochs, 'epoch')} in ${clock(event.train_seconds)} ` +
            `(${fixed(event.images_per_s, 0)} img/s), final loss ${fixed(event.final_loss, 4)}`,
        );
        break;
      case 'probe_started': {
        const what = event.checkpoint === 'none' ? 'the random-init encoder' : event.checkpoint;
        this.#line(
          `${tag}: probing ${what} (${event.feature_dim} features, ${event.train_images} train / ` +
            `${event.test_images} test images)`,
        );
        break;
      }
      case 'probe_epoch':
        if (this.#tty) {
          this.#status(
            `${tag}: probe epoch ${event.epoch}/${event.epochs}  loss ${fixed(event.loss, 4)}` +
              `  test top-1 ${fixed(event.test_top1, 2)} %`,
          );
        }
        break;
      case 'probe_finished':
        this.#line(
          `${tag}: probe top-1 ${fixed(event.test_top1, 2)} % ` +
            `(best ${fixed(event.best_test_top1, 2)} % at epoch ${event.best_epoch})`,
        );
        break;
      default:
        break;
    }
  }

  /** End a live status line, if one is showing. */
  close(): void {
    if (this.#live) this.#out.write('\n');
    this.#live = false;
  }
}
