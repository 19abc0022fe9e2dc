// Framing: a 4-byte big-endian length, then the payload. Payloads are NUL-terminated text fields
// (the last one too), except the client's opening `API\0` + length + `v100..193`, whose payload
// is bare text. TCP may split a frame across chunks or put several in one: FrameReader reassembles.
import { MAX_FRAME } from './ids.ts';
import { formatField, type Field } from './fields.ts';

export const API_PREFIX = Buffer.from('API\0', 'latin1');

/** One frame: the fields, each followed by NUL. */
export function encodeFrame(fields: readonly Field[]): Buffer {
  let text = '';
  for (const f of fields) text += `${formatField(f)}\0`;
  const payload = Buffer.from(text, 'utf8');
  const frame = Buffer.allocUnsafe(4 + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, 4);
  return frame;
}

/** The client's opening bytes: `API\0`, the length, then e.g. `v100..193` (no NUL). */
export function encodeHandshake(versions = 'v100..193'): Buffer {
  const body = Buffer.from(versions, 'utf8');
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([API_PREFIX, len, body]);
}

/** The fields of a payload; a final field without its NUL is kept (the client always sends one). */
export function splitFields(payload: Buffer): string[] {
  const parts = payload.toString('utf8').split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** The version range a client offers: `v100..193`, `v193`, with optional ` +options` after a space. */
export function parseVersionRange(text: string): { min: number; max: number } | null {
  const m = /^v(\d+)(?:\.\.(\d+))?$/.exec(text.split(' ')[0]);
  if (!m) return null;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  return min <= max ? { min, max } : null;
}

export class FrameError extends Error {}

/**
 * Reassembles frames from TCP chunks. With `preamble`, the stream must open with those bytes (the
 * server side expects `API\0`). Returns complete payloads; throws FrameError on a bad preamble or a
 * frame over MAX_FRAME bytes (the connection should be closed).
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private needPreamble: Buffer | null;

  constructor(preamble?: Buffer) {
    this.needPreamble = preamble ?? null;
  }

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    if (this.needPreamble) {
      const p = this.needPreamble;
      const n = Math.min(p.length, this.buf.length);
      if (!this.buf.subarray(0, n).equals(p.subarray(0, n))) throw new FrameError('the stream does not open with API\\0');
      if (this.buf.length < p.length) return out;
      this.buf = this.buf.subarray(p.length);
      this.needPreamble = null;
    }
    let off = 0;
    while (this.buf.length - off >= 4) {
      const len = this.buf.readUInt32BE(off);
      if (len > MAX_FRAME) throw new FrameError(`frame of ${len} bytes exceeds ${MAX_FRAME}`);
      if (this.buf.length - off - 4 < len) break;
      out.push(Buffer.from(this.buf.subarray(off + 4, off + 4 + len)));
      off += 4 + len;
    }
    this.buf = off === 0 ? this.buf : Buffer.from(this.buf.subarray(off));
    return out;
  }

  /** bytes held back waiting for the rest of a frame */
  get pending(): number {
    return this.buf.length;
  }
}
