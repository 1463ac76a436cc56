const Sequencer = require('@jest/test-sequencer').default;

/**
 * The suites that take longest (15 s or more each on 2 cores), longest first. Jest orders a run by
 * the durations it recorded in an earlier run of the same checkout; a fresh clone (CI's) has none,
 * and Jest's fallback, the largest file first, started packaging-toolchain (a small file, 40 s)
 * 85 s into a 130 s run, while the last workers sat idle waiting for it.
 */
const LONGEST = [
  'prefer-wait',
  'packaging-toolchain',
  'bench-abort',
  'store-failover-cluster',
  'doc-snippets',
  'packaging-without-peers',
  'store-failover-postgres',
];

/** Suites that run programs or servers before the in-process ones, when no duration is known. */
const PROJECT_ORDER = ['system', 'integration', 'unit'];

const suiteName = (test) => /([^/]+)\.test\.ts$/.exec(test.path)?.[1] ?? '';

function rankWithoutDuration(test) {
  const longest = LONGEST.indexOf(suiteName(test));
  const project = PROJECT_ORDER.indexOf(test.context.config.displayName?.name ?? 'unit');
  return [longest === -1 ? LONGEST.length : longest, project, -(test.context.hasteFS.getSize(test.path) ?? 0)];
}

function compareRanks(a, b) {
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return a[index] - b[index];
  return 0;
}

/**
 * Jest's order (suites that failed last time first, then the longest by recorded duration), with
 * a better guess for suites it has no duration for: those go first, the LONGEST list in its order,
 * then by project (system, integration, unit) and file size.
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
