// The alerts' configuration: which rules fire at what threshold, how loud, and where they are sent. Read from a
// JSON or YAML file (`--alerts FILE`), or the defaults when there is none. Durations are in seconds (fractions
// allowed), fractions are fractions (0.05 = 5%). Passwords may come from the environment (`pass: ${SMTP_PASSWORD}`
// or `passEnv: SMTP_PASSWORD`); every value taken from the environment and every password is a secret the alerts
// never journal (`AlertsConfig.secrets`).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import type * as Yaml from 'yaml';
import { ConfigError } from '../core/config-error.ts';

/** yaml, loaded by the first YAML file read: a session without an alerts file never loads it. */
const yaml = (): typeof Yaml => createRequire(import.meta.url)('yaml');

export type Severity = 'critical' | 'warning' | 'info';
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

export const RULE_NAMES = [
  'daily_loss_limit',
  'position_size_breach',
  'api_disconnection',
  'high_error_rate',
  'breaker_tripped',
  'reconciliation_mismatch',
  'daily_summary',
] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export interface WebhookChannel {
  type: 'webhook';
  name: string;
  url: string;
  headers: Record<string, string>;
}

export interface EmailChannel {
  type: 'email';
  name: string;
  host: string;
  port: number;
  /** TLS from the start (port 465); otherwise STARTTLS when the server offers it */
  secure: boolean;
  user?: string;
  pass?: string;
  from: string;
  to: string[];
}

export type ChannelConfig = WebhookChannel | EmailChannel;

export interface RuleConfig {
  name: RuleName;
  enabled: boolean;
  severity: Severity;
  /**
   * daily_loss_limit: the day's P&L as a fraction of the day-start equity (below 0: -0.02);
   * position_size_breach: a position's |market value| / equity (0.05); api_disconnection: seconds disconnected (30);
   * high_error_rate: the fraction of orders rejected or errored in the window (0.05); NaN for the rules without one.
   */
  threshold: number;
  /** high_error_rate: the window in seconds (600) */
  window: number;
  /** high_error_rate: the fewest orders in the window for a rate to count (1) */
  minOrders: number;
  /** the channels (by name) it is sent to; [] = journaled only */
  channels: string[];
  /** rate limit: the least seconds between two notifications of this rule */
  minInterval: number;
}

export interface DeliveryConfig {
  /** tries per notification and channel (the first included) */
  attempts: number;
  /** seconds before the first retry; doubled at each one, up to maxBackoff */
  backoff: number;
  maxBackoff: number;
  /** seconds a channel may take to answer */
  timeout: number;
  /** notifications waiting to be sent at most (the oldest are dropped, journaled) */
  maxQueue: number;
}

export interface AlertsConfig {
  /** the file it came from ('' for the defaults) */
  source: string;
  channels: Record<string, ChannelConfig>;
  rules: Record<RuleName, RuleConfig>;
  delivery: DeliveryConfig;
  /** seconds between the timer's evaluations (events evaluate too) */
  evaluateEvery: number;
  /** passwords and the values taken from the environment: never journaled */
  secrets: string[];
}

interface RuleDefaults {
  severity: Severity;
  threshold: number;
  /** the rule a threshold must meet, or null for rules without one */
  thresholdRule: { test: (v: number) => boolean; says: string } | null;
}

const RULE_DEFAULTS: Record<RuleName, RuleDefaults> = {
  daily_loss_limit: { severity: 'critical', threshold: -0.02, thresholdRule: { test: (v) => v < 0 && v > -1, says: 'a number below 0 (and above -1)' } },
  position_size_breach: { severity: 'warning', threshold: 0.05, thresholdRule: { test: (v) => v > 0, says: 'a number above 0' } },
  api_disconnection: { severity: 'critical', threshold: 30, thresholdRule: { test: (v) => v > 0, says: 'a number of seconds above 0' } },
  high_error_rate: { severity: 'warning', threshold: 0.05, thresholdRule: { test: (v) => v >= 0 && v < 1, says: 'a number from 0 to below 1' } },
  breaker_tripped: { severity: 'critical', threshold: Number.NaN, thresholdRule: null },
  reconciliation_mismatch: { severity: 'critical', threshold: Number.NaN, thresholdRule: null },
  daily_summary: { severity: 'info', threshold: Number.NaN, thresholdRule: null },
};

const DEFAULT_MIN_INTERVAL = 300;
const DEFAULT_DELIVERY: DeliveryConfig = { attempts: 5, backoff: 2, maxBackoff: 60, timeout: 10, maxQueue: 500 };
const DEFAULT_EVALUATE_EVERY = 5;

/** The configuration without a file: every rule on at its default threshold, no channels (journaled only). */
export function defaultAlertsConfig(): AlertsConfig {
  return parseAlertsConfig({}, '');
}

/** Reads an alerts file: JSON (.json) or YAML (anything else; YAML reads JSON too). */
export function loadAlertsConfig(file: string, env: NodeJS.ProcessEnv = process.env): AlertsConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, `cannot be read (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : yaml().parse(text);
  } catch (e) {
    throw new ConfigError(file, `is not valid ${extname(file).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseAlertsConfig(raw ?? {}, file, env);
}

/**
 * Checks a parsed configuration (`source` names the file in the errors: "alerts.yml: rules.daily_loss_limit.threshold
 * must be a number below 0, got 'x'"). Throws a ConfigError at the first field that breaks its rule.
 */
export function parseAlertsConfig(raw: unknown, source: string, env: NodeJS.ProcessEnv = process.env): AlertsConfig {
  const file = source || 'alerts config';
  const fail = (field: string, rule: string): never => {
    throw new ConfigError(file, `${field} ${rule}`);
  };
  const secrets = new Set<string>();
  const root = object(raw, 'the file', fail);
  known(root, ['channels', 'rules', 'delivery', 'defaults', 'evaluateEvery'], '', fail);

  const num = (o: Record<string, unknown>, key: string, where: string, dflt: number, test: (v: number) => boolean, says: string): number => {
    const v = o[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || !test(v)) fail(`${where}${key}`, `must be ${says}, got ${show(v)}`);
    return v as number;
  };
  const bool = (o: Record<string, unknown>, key: string, where: string, dflt: boolean): boolean => {
    const v = o[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') fail(`${where}${key}`, `must be true or false, got ${show(v)}`);
    return v as boolean;
  };
  // a string, with ${NAME} replaced from the environment (the values so taken are secrets)
  const str = (o: Record<string, unknown>, key: string, where: string, required: boolean): string | undefined => {
    const v = o[key];
    if (v === undefined) {
      if (required) fail(`${where}${key}`, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' || v === '') fail(`${where}${key}`, `must be a non-empty string, got ${key === 'pass' ? 'something else' : show(v)}`);
    return expand(v as string, `${where}${key}`);
  };
  const expand = (v: string, field: string): string =>
    v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const value = env[name];
      if (value === undefined || value === '') fail(field, `names the environment variable ${name}, which is not set`);
      secrets.add(value as string);
      return value as string;
    });
  const names = (v: unknown, field: string): string[] => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) fail(field, `must be a list of names, got ${show(v)}`);
    return v as string[];
  };

  // channels
  const channels: Record<string, ChannelConfig> = {};
  const rawChannels = root.channels === undefined ? {} : object(root.channels, 'channels', fail);
  for (const [name, value] of Object.entries(rawChannels)) {
    const where = `channels.${name}.`;
    const c = object(value, `channels.${name}`, fail);
    if (c.type === 'webhook') {
      known(c, ['type', 'url', 'headers'], where, fail);
      const url = str(c, 'url', where, true)!;
      if (!/^https?:\/\//.test(url)) fail(`${where}url`, `must be an http:// or https:// address, got ${show(c.url)}`);
      const headers: Record<string, string> = {};
      if (c.headers !== undefined) {
        const h = object(c.headers, `${where}headers`, fail);
        for (const k of Object.keys(h)) {
          headers[k] = str(h, k, `${where}headers.`, true)!;
          secrets.add(headers[k]); // an Authorization header is a secret
        }
      }
      channels[name] = { type: 'webhook', name, url, headers };
    } else if (c.type === 'email') {
      known(c, ['type', 'host', 'port', 'secure', 'user', 'pass', 'passEnv', 'from', 'to'], where, fail);
      const host = str(c, 'host', where, true)!;
      const port = num(c, 'port', where, Number.NaN, (v) => Number.isInteger(v) && v > 0 && v < 65536, 'a port number (1-65535)');
      if (Number.isNaN(port)) fail(`${where}port`, 'is required');
      const secure = bool(c, 'secure', where, port === 465);
      const user = str(c, 'user', where, false);
      if (c.pass !== undefined && c.passEnv !== undefined) fail(`${where}pass`, 'and passEnv are both given: give one');
      let pass = str(c, 'pass', where, false);
      if (c.passEnv !== undefined) {
        const envName = str(c, 'passEnv', where, true)!;
        pass = env[envName];
        if (pass === undefined || pass === '') fail(`${where}passEnv`, `names the environment variable ${envName}, which is not set`);
      }
      if (pass !== undefined) secrets.add(pass);
      if (pass !== undefined && user === undefined) fail(`${where}user`, 'is required with a password');
      const from = str(c, 'from', where, true)!;
      const to = typeof c.to === 'string' ? [c.to] : names(c.to, `${where}to`);
      if (to.length === 0) fail(`${where}to`, 'must name at least one address');
      channels[name] = { type: 'email', name, host, port, secure, user, pass, from, to };
    } else fail(`${where}type`, `must be webhook or email, got ${show(c.type)}`);
  }
  const channelNames = Object.keys(channels);
  const checkChannels = (list: string[], field: string): string[] => {
    for (const n of list)
      if (!channels[n]) fail(field, `names the channel '${n}', which is not in channels${channelNames.length ? ` (${channelNames.join(', ')})` : ''}`);
    return list;
  };

  // defaults
  const defaults = root.defaults === undefined ? {} : object(root.defaults, 'defaults', fail);
  known(defaults, ['channels', 'minInterval'], 'defaults.', fail);
  const defaultChannels = defaults.channels === undefined ? channelNames : checkChannels(names(defaults.channels, 'defaults.channels'), 'defaults.channels');
  const defaultMinInterval = num(defaults, 'minInterval', 'defaults.', DEFAULT_MIN_INTERVAL, (v) => v >= 0, 'a number of seconds from 0');

  // rules
  const rawRules = root.rules === undefined ? {} : object(root.rules, 'rules', fail);
  for (const name of Object.keys(rawRules))
    if (!(RULE_NAMES as readonly string[]).includes(name)) fail(`rules.${name}`, `is not a rule (the rules: ${RULE_NAMES.join(', ')})`);
  const rules = {} as Record<RuleName, RuleConfig>;
  for (const name of RULE_NAMES) {
    const d = RULE_DEFAULTS[name];
    const where = `rules.${name}.`;
    const value = rawRules[name];
    // `rule: false` turns it off, `rule: true` (or no entry) keeps the defaults
    const r = value === undefined || value === true || value === null ? {} : value === false ? { enabled: false } : object(value, `rules.${name}`, fail);
    const fields = ['enabled', 'severity', 'channels', 'minInterval'];
    if (d.thresholdRule) fields.push('threshold');
    if (name === 'high_error_rate') fields.push('window', 'minOrders');
    if (!d.thresholdRule && r.threshold !== undefined) fail(`${where}threshold`, `is not a setting of ${name} (it has no threshold)`);
    known(r, fields, where, fail);
    const severity = r.severity === undefined ? d.severity : (r.severity as Severity);
    if (!SEVERITIES.includes(severity)) fail(`${where}severity`, `must be critical, warning or info, got ${show(r.severity)}`);
    rules[name] = {
      name,
      enabled: bool(r, 'enabled', where, true),
      severity,
      threshold: d.thresholdRule ? num(r, 'threshold', where, d.threshold, d.thresholdRule.test, d.thresholdRule.says) : Number.NaN,
      window: name === 'high_error_rate' ? num(r, 'window', where, 600, (v) => v > 0, 'a number of seconds above 0') : Number.NaN,
      minOrders: name === 'high_error_rate' ? num(r, 'minOrders', where, 1, (v) => Number.isInteger(v) && v >= 1, 'a whole number from 1') : Number.NaN,
      channels: r.channels === undefined ? defaultChannels : checkChannels(names(r.channels, `${where}channels`), `${where}channels`),
      minInterval: num(r, 'minInterval', where, defaultMinInterval, (v) => v >= 0, 'a number of seconds from 0'),
    };
  }

  // delivery
  const del = root.delivery === undefined ? {} : object(root.delivery, 'delivery', fail);
  known(del, ['attempts', 'backoff', 'maxBackoff', 'timeout', 'maxQueue'], 'delivery.', fail);
  const delivery: DeliveryConfig = {
    attempts: num(del, 'attempts', 'delivery.', DEFAULT_DELIVERY.attempts, (v) => Number.isInteger(v) && v >= 1 && v <= 20, 'a whole number from 1 to 20'),
    backoff: num(del, 'backoff', 'delivery.', DEFAULT_DELIVERY.backoff, (v) => v >= 0, 'a number of seconds from 0'),
    maxBackoff: num(del, 'maxBackoff', 'delivery.', DEFAULT_DELIVERY.maxBackoff, (v) => v >= 0, 'a number of seconds from 0'),
    timeout: num(del, 'timeout', 'delivery.', DEFAULT_DELIVERY.timeout, (v) => v > 0, 'a number of seconds above 0'),
    maxQueue: num(del, 'maxQueue', 'delivery.', DEFAULT_DELIVERY.maxQueue, (v) => Number.isInteger(v) && v >= 1, 'a whole number from 1'),
  };
  const evaluateEvery = num(root, 'evaluateEvery', '', DEFAULT_EVALUATE_EVERY, (v) => v > 0, 'a number of seconds above 0');
  return { source, channels, rules, delivery, evaluateEvery, secrets: [...secrets] };
}

function object(v: unknown, field: string, fail: (field: string, rule: string) => never): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, `must be a mapping of fields, got ${show(v)}`);
  return v as Record<string, unknown>;
}

function known(o: Record<string, unknown>, keys: string[], where: string, fail: (field: string, rule: string) => never): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${where}${k}`, `is not a known field (known: ${keys.join(', ')})`);
}

/** A value for an error message: strings quoted, the rest as JSON. */
function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
