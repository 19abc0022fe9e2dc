/**
 * A configuration value that breaks its rule. `subject` names the value ("commission 'free'"), `rule` says
 * what it must be; a front end says it in its own terms (a CLI names its flag: `--commission free: rule`).
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly subject: string,
    readonly rule: string,
  ) {
    super(`${subject}: ${rule}`);
  }
}
