/** Keeps the last `limit` lines of a byte stream that arrives in arbitrary chunks. */
export class LineTail {
  readonly #limit: number;
  readonly #lines: string[] = [];
  #partial = '';

  constructor(limit = 50) {
    this.#limit = limit;
  }

  /** Adds a chunk of text that may end in the middle of a line. */
  push(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.#keep(line.replace(/\r$/, ''));
  }

  /** Adds one whole line. */
  pushLine(line: string): void {
    this.#keep(line);
  }

  /** The kept lines, oldest first, including an unterminated last line. */
  lines(): string[] {
    const all = this.#partial === '' ? [...this.#lines] : [...this.#lines, this.#partial];
    return all.slice(-this.#limit);
  }

  /** The last line with visible text, for a one-line error message. */
  lastLine(): string | undefined {
    return this.lines()
      .map((line) => line.trim())
      .findLast((line) => line !== '');
  }

  #keep(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.#limit) this.#lines.shift();
  }
}
