// Text helpers for the HTML report: escaping and locale-independent number formatting
// (no Intl / toLocaleString, so the same report renders to the same bytes on every machine).

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escape text for an HTML text node or a quoted attribute value. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>`, `&` and the JS line separators are
 * written as \u escapes, so no `</script>` or `<!--` can appear; JSON.parse gives back the same value.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export const DASH = '—';

function group(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Fixed decimals with thousands separators; a dash for null / non-finite. */
export function fmtNum(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return DASH;
  const s = Math.abs(x).toFixed(digits);
  const [i, f] = s.split('.');
  const sign = x < 0 && Number(s) !== 0 ? '-' : '';
  return sign + group(i) + (f !== undefined ? `.${f}` : '');
}

/** A fraction as a percent with `digits` decimals: 0.1234 -> "12.34%". */
export function fmtPct(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return DASH;
  return `${fmtNum(x * 100, digits)}%`;
}

/** A price: 2 decimals when it is a whole number of cents, else 4. */
export function fmtPrice(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return DASH;
  const cents = x * 100;
  return fmtNum(x, Math.abs(cents - Math.round(cents)) < 1e-6 ? 2 : 4);
}

/** Up to `digits` decimals, trailing zeros dropped: 61250 -> "61,250", 0.0710 -> "0.071". */
export function fmtValue(x: number | null | undefined, digits = 4): string {
  const s = fmtNum(x, digits);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Integer-like count. */
export function fmtInt(x: number | null | undefined): string {
  return fmtNum(x, 0);
}

/** CSS class for a signed value: 'pos', 'neg' or ''. */
export function signClass(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x) || x === 0) return '';
  return x > 0 ? 'pos' : 'neg';
}
