// A minimal TWS API client over raw frames: the handshake, frames out, frames in. For protocol tests
// and tools that want the bytes, not an API (the simulator's tests drive it with hand-built frames).
import { connect, type Socket } from 'node:net';
import type { Field } from './fields.ts';
import { encodeFrame, encodeHandshake, FrameReader, splitFields } from './framing.ts';

export class RawClient {
  /** every frame received, in order */
  readonly frames: string[][] = [];
  readonly closed: Promise<void>;
  private readonly reader = new FrameReader();
  private cursor = 0;
  private waiters: (() => void)[] = [];
  private isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const p of this.reader.push(chunk)) this.frames.push(splitFields(p));
      this.wake();
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** The client's opening bytes (not a frame). */
  static handshake(versions = 'v100..193'): Buffer {
    return encodeHandshake(versions);
  }

  static frame(fields: readonly Field[]): Buffer {
    return encodeFrame(fields);
  }

  /** Writes bytes, optionally in chunks of `chunkSize` bytes with a pause between them (to split frames across TCP segments). */
  async write(bytes: Buffer, chunkSize = 0, pauseMs = 1): Promise<void> {
    if (chunkSize <= 0) {
      this.socket.write(bytes);
      return;
    }
    for (let i = 0; i < bytes.length; i += chunkSize) {
      this.socket.write(bytes.subarray(i, i + chunkSize));
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }

  send(fields: readonly Field[]): void {
    this.socket.write(encodeFrame(fields));
  }

  /** The next frame not yet returned by next(); rejects after `timeoutMs` or when the connection closes first. */
  async next(timeoutMs = 2_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.cursor >= this.frames.length) {
      if (this.isClosed) throw new Error(`connection closed; frames so far: ${JSON.stringify(this.frames)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms; frames so far: ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.frames[this.cursor++];
  }

  /** Skips frames until one matches. */
  async nextMatching(pred: (fields: string[]) => boolean, timeoutMs = 2_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.next(Math.max(1, deadline - Date.now()));
      if (pred(f)) return f;
    }
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
