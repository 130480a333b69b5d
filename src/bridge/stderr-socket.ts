/*
 * Python's stderr for a process whose stdio pythonia inherits: localssl.bridge connects fd 2 to
 * this Unix socket at import (env LOCALSSL_BRIDGE_STDERR_SOCKET), after a first line naming its
 * pid. Bytes Python wrote before a crash are already in the socket and still reach Node, which a
 * reader thread inside Python could not guarantee.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const HANDSHAKE = /^localssl-bridge (\d+)$/;

/** Where the text goes once the expected process has connected. */
export interface StderrSink {
  onText: (text: string) => void;
  onClose: () => void;
}

/** A one-connection Unix socket server in a private temporary directory. */
export class StderrSocket {
  readonly path: string;
  readonly #dir: string;
  readonly #server: Server;
  #expected: { pid: number; sink: StderrSink } | undefined;
  #disposed = false;

  private constructor(dir: string, server: Server) {
    this.#dir = dir;
    this.path = join(dir, 'stderr.sock');
    this.#server = server;
  }

  /** Listens on a fresh socket; undefined on Windows, where pythonia needs stderr itself. */
  static async open(): Promise<StderrSocket | undefined> {
    if (process.platform === 'win32') return undefined;
    // mkdtemp makes the directory 0700, so no other user can connect.
    const dir = mkdtempSync(join(tmpdir(), 'localssl-bridge-'));
    const server = createServer();
    const socket = new StderrSocket(dir, server);
    server.on('connection', (connection) => socket.#accept(connection));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(socket.path, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    server.unref();
    return socket;
  }

  /** Accepts the connection of process `pid` only, and sends its text to `sink`. */
  expect(pid: number, sink: StderrSink): void {
    this.#expected = { pid, sink };
  }

  /** Stops listening and removes the directory; an accepted connection keeps flowing. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#server.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #accept(connection: Socket): void {
    connection.unref();
    connection.setEncoding('utf8');
    connection.on('error', () => connection.destroy());
    let greeting = '';
    let sink: StderrSink | undefined;
    connection.on('data', (chunk: string) => {
      if (sink !== undefined) {
        sink.onText(chunk);
        return;
      }
      greeting += chunk;
      const newline = greeting.indexOf('\n');
      if (newline < 0) return;
      const pid = Number(HANDSHAKE.exec(greeting.slice(0, newline))?.[1]);
      if (this.#expected === undefined || this.#expected.pid !== pid) {
        connection.destroy();
        return;
      }
      sink = this.#expected.sink;
      connection.once('close', sink.onClose);
      // The connected socket outlives its path, so nothing stays on disk from here on.
      this.dispose();
      const rest = greeting.slice(newline + 1);
      if (rest !== '') sink.onText(rest);
    });
  }
}
