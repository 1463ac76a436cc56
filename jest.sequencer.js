const Sequencer = require('@jest/test-sequencer').default;

/**
 * Seconds each suite of 5 s or more took in a full run on 2 cores (`npm test` on a fresh clone).
 * Jest orders a run by the durations it recorded in an earlier run of the same checkout, longest
 * first; a fresh clone (CI's) has none, and Jest's fallback, the largest file first, started
 * packaging-toolchain (a small file, 40 s then) 85 s into a 130 s run, and the unit suites that
 * mostly wait (browser-wait, browser-server-password) last, each alone at the end. Without a
 * recorded duration these figures stand in; a suite not named here counts as short.
 */
const EXPECTED_SECONDS = {
  'prefer-wait': 65,
  'bench-abort': 30,
  'store-failover-cluster': 23,
  'store-failover-postgres': 21,
  'packaging-toolchain': 20,
  'doc-snippets': 16,
  'store-failover-sentinel': 16,
  'packaging-without-peers': 13,
  'rate-limit': 13,
  'redis-store-replicas': 12,
  'cluster-race': 12,
  'cli-wait': 12,
  'demo-keys': 8,
  'packaging-with-peers': 8,
  'console.e2e': 7,
  'browser-server-password': 7,
  'abuse.property': 7,
  'browser-chromium': 6,
  'browser-decrypt': 6,
  'browser-wait': 6,
  cli: 6,
  'instance-key': 5,
  'packaging-express4': 5,
};

/** Among short suites without a recorded duration, those that run programs or servers go first. */
const PROJECT_ORDER = ['system', 'integration', 'unit'];

const suiteName = (test) => /([^/]+)\.test\.ts$/.exec(test.path)?.[1] ?? '';

function rankWithoutDuration(test) {
  const project = PROJECT_ORDER.indexOf(test.context.config.displayName?.name ?? 'unit');
  return [-(EXPECTED_SECONDS[suiteName(test)] ?? 0), project, -(test.context.hasteFS.getSize(test.path) ?? 0)];
}

function compareRanks(a, b) {
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return a[index] - b[index];
  return 0;
}

/**
 * Jest's order (suites that failed last time first, then the longest by recorded duration), with
 * EXPECTED_SECONDS for suites it has no duration for; those go first, as Jest's own order does.
 */
class LongestFirstSequencer extends Sequencer {
  sort(tests) {
    for (const test of tests) test.duration = this.time(test);
    return tests.sort((a, b) => {
      const failed = Number(this.hasFailed(b)) - Number(this.hasFailed(a));
      if (failed !== 0) return failed;
      const known = Number(a.duration != null) - Number(b.duration != null);
      if (known !== 0) return known;
      if (a.duration != null && b.duration != null) return b.duration - a.duration;
      return compareRanks(rankWithoutDuration(a), rankWithoutDuration(b));
    });
  }
}

module.exports = LongestFirstSequencer;
