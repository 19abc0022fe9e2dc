// The queue tests' real redis-server (Debian's package; .ci/run installs it). The starter itself lives in
// scripts/bench/redis-server.ts so that the queue bench starts its server the same way.
import { redisServerInstalled } from '../../scripts/bench/redis-server.ts';

export { freePort, opensslInstalled, pingOnce, type RedisOptions, type RedisServer, startRedis } from '../../scripts/bench/redis-server.ts';

/**
 * Whether the queue tests can run: absent redis-server skips them with a message, except under CI=true, where
 * .ci/run installs it and its absence is a failure.
 */
export function redisAvailable(): boolean {
  if (redisServerInstalled()) return true;
  const what = "redis-server is not installed: install Debian's redis-server (apt-get install redis-server; .ci/run does)";
  if (process.env.CI === 'true') throw new Error(`${what}; CI must run the queue tests`);
  console.warn(`skipping: ${what}`);
  return false;
}
