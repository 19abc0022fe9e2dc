// The control token of the ops server: 256 random bits, base64url, generated when a session starts and written to
// a file only its owner can read (mode 0600), or read from an existing `--token-file`. Control requests carry it as
// `Authorization: Bearer <token>`; it is compared in constant time. Nothing here logs or returns it in a message.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Bytes of randomness in a generated token (256 bits). */
export const TOKEN_BYTES = 32;

/** A fresh token: 32 random bytes, base64url (43 characters, no padding). */
export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/**
 * Writes `token` to `path` with mode 0600 (creating its directories, mode 0700 for new ones), through a temporary
 * file renamed over it, so the file never exists readable by others nor half written.
 */
export function writeTokenFile(path: string, token: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o600); // in case the temporary file existed already with another mode
  renameSync(tmp, path);
}

/** The token in `path` (surrounding whitespace trimmed); throws when the file is missing or empty. */
export function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the token file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const token = text.trim();
  if (token === '') throw new Error(`the token file ${path} is empty`);
  if (/\s/.test(token)) throw new Error(`the token file ${path} must hold one token on one line`);
  return token;
}

export interface LoadedToken {
  token: string;
  /** the file it is in */
  path: string;
  /** true when generated now (and written to `path`), false when read from an existing `tokenFile` */
  created: boolean;
  /** set when a token file read is readable by group or others (mode shown in octal); the caller may warn */
  looseMode?: string;
}

/**
 * The session's token: read from `tokenFile` when given (it must exist), else generated and written to
 * `defaultPath` with mode 0600.
 */
export function loadOrCreateToken(o: { tokenFile?: string; defaultPath: string }): LoadedToken {
  if (o.tokenFile !== undefined) {
    const token = readTokenFile(o.tokenFile);
    const mode = statSync(o.tokenFile).mode & 0o777;
    const out: LoadedToken = { token, path: o.tokenFile, created: false };
    if ((mode & 0o077) !== 0) out.looseMode = mode.toString(8).padStart(4, '0');
    return out;
  }
  const token = generateToken();
  writeTokenFile(o.defaultPath, token);
  return { token, path: o.defaultPath, created: true };
}

/**
 * Whether `given` is `expected`, in time independent of where they differ and of their lengths (both are hashed
 * first, so timingSafeEqual compares equal lengths). An empty `expected` never matches.
 */
export function tokenEquals(given: string | undefined | null, expected: string): boolean {
  if (typeof given !== 'string' || expected === '') return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1] : undefined;
}
