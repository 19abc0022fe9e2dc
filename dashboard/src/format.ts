// Number and time formatting for the dashboard: every figure on the page goes through these.

const money2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const money0 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const qty = new Intl.NumberFormat('en-US', { maximumFractionDigits: 4 });

const isNum = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** 12,345.67 (— for null/NaN) */
export function money(x: number | null | undefined, digits: 0 | 2 = 2): string {
  if (!isNum(x)) return '—';
  return (digits === 0 ? money0 : money2).format(x);
}

/** +1,234.56 / −1,234.56 */
export function signedMoney(x: number | null | undefined): string {
  if (!isNum(x)) return '—';
  return `${x > 0 ? '+' : x < 0 ? '−' : ''}${money2.format(Math.abs(x))}`;
}

/** 0.0523 → 5.23% */
export function pct(x: number | null | undefined, digits = 2, signed = false): string {
  if (!isNum(x)) return '—';
  const s = `${(Math.abs(x) * 100).toFixed(digits)}%`;
  if (x < 0) return `−${s}`;
  return signed && x > 0 ? `+${s}` : s;
}

export function num(x: number | null | undefined, digits = 2): string {
  if (!isNum(x)) return '—';
  return x.toFixed(digits);
}

export function quantity(x: number | null | undefined): string {
  if (typeof x === 'number' && Number.isNaN(x)) return 'all-in';
  if (!isNum(x)) return '—';
  return qty.format(x);
}

/** the CSS class for a P&L's sign */
export function sign(x: number | null | undefined): string {
  if (!isNum(x) || x === 0) return 'flat';
  return x > 0 ? 'pos' : 'neg';
}

const pad = (n: number) => String(n).padStart(2, '0');

/** HH:MM:SS in the browser's time zone */
export function clock(ts: number | null | undefined): string {
  if (!isNum(ts)) return '—';
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** YYYY-MM-DD HH:MM:SS */
export function dateTime(ts: number | null | undefined): string {
  if (!isNum(ts)) return '—';
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ts)}`;
}

/** an age in ms as "3 s", "2 min", "1 h 5 min" */
export function age(ms: number | null | undefined): string {
  if (!isNum(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function ms(x: number | null | undefined): string {
  if (!isNum(x)) return '—';
  return x < 10 ? `${x.toFixed(1)} ms` : `${Math.round(x)} ms`;
}
