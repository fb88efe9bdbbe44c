#!/usr/bin/env node
// Compares a run of the MCP conformance suite with .ci/conformance-baseline.json: called by .ci/conformance.sh as
//   node .ci/conformance-compare.mjs RESULTS_DIR SCENARIOS_FILE BASELINE SUITE_SECS TOTAL_SECS SUITE_VERSION CLOSING_FILE
// A scenario passes when none of its checks is a FAILURE or a WARNING. It prints one line per scenario and a
// summary, writes the closing count line to CLOSING_FILE, and exits 1 on a failure outside the baseline or a
// stale baseline entry (one that passes, or names a scenario the suite no longer has).
import fs from 'node:fs';
import path from 'node:path';

const [resultsDir, scenariosFile, baselineFile, suiteSecs, totalSecs, suiteVersion, closingFile] = process.argv.slice(2);

const scenarios = fs.readFileSync(scenariosFile, 'utf8').split('\n').filter(Boolean);
const baseline = JSON.parse(fs.readFileSync(baselineFile, 'utf8'));
const expected = new Map((baseline.expectedFailures ?? []).map((e) => [e.scenario, e.reason]));
const notes = new Map(Object.entries(baseline.passesWithoutFixture ?? {}));
const rel = path.relative(process.cwd(), baselineFile) || baselineFile;
if (baseline.suite && baseline.suite !== `@modelcontextprotocol/conformance@${suiteVersion}`) {
  console.log(`conformance: note: ${rel} was made for ${baseline.suite}, this run uses ${suiteVersion}`);
}

// -o writes results/server-<scenario>-<ISO timestamp>/checks.json for each scenario that ran.
const checksOf = new Map();
for (const dir of fs.readdirSync(resultsDir)) {
  const scenario = dir.replace(/^server-/, '').replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '');
  try {
    checksOf.set(scenario, JSON.parse(fs.readFileSync(path.join(resultsDir, dir, 'checks.json'), 'utf8')));
  } catch (error) {
    checksOf.set(scenario, [{ status: 'FAILURE', name: 'results', errorMessage: `unreadable checks.json: ${error.message}` }]);
  }
}

const width = Math.max(...scenarios.map((s) => s.length));
const oneLine = (text) => String(text).replace(/\s+/g, ' ').trim().slice(0, 300);
const counts = { pass: 0, expected: 0, unexpected: [], stale: [] };
for (const scenario of scenarios) {
  const checks = checksOf.get(scenario) ?? [
    { status: 'FAILURE', name: 'run', errorMessage: 'no checks.json: the suite could not run this scenario (see its log)' },
  ];
  const bad = checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
  const ok = checks.filter((c) => c.status === 'SUCCESS').length;
  const tally = `${ok} ok, ${bad.filter((c) => c.status === 'FAILURE').length} failed, ${bad.filter((c) => c.status === 'WARNING').length} warnings`;
  const name = scenario.padEnd(width);
  if (bad.length === 0 && !expected.has(scenario)) {
    counts.pass++;
    console.log(`  pass      ${name}  ${notes.has(scenario) ? `(${notes.get(scenario)})` : `${ok} check${ok === 1 ? '' : 's'} ok`}`);
  } else if (bad.length > 0 && expected.has(scenario)) {
    counts.expected++;
    console.log(`  expected  ${name}  ${expected.get(scenario)}`);
  } else if (bad.length === 0) {
    counts.stale.push(scenario);
    console.log(`  STALE     ${name}  passed, but the baseline expects it to fail: remove it from the baseline`);
  } else {
    counts.unexpected.push(scenario);
    console.log(`  FAIL      ${name}  ${tally}`);
    for (const c of bad) {
      const text = c.details?.result?.content?.find?.((part) => part.type === 'text')?.text;
      const got = text === undefined ? '' : ` (the result said: ${JSON.stringify(text.slice(0, 120))})`;
      console.log(`              ${c.status} ${c.name ?? c.id}: ${oneLine(c.errorMessage ?? c.description ?? '')}${got}`);
    }
  }
}
for (const scenario of expected.keys()) {
  if (!scenarios.includes(scenario)) {
    counts.stale.push(scenario);
    console.log(`  STALE     ${scenario.padEnd(width)}  in the baseline, but this suite version has no such scenario`);
  }
}

console.log('');
if (counts.unexpected.length) console.log(`conformance: UNEXPECTED FAILURES (not in ${rel}): ${counts.unexpected.join(', ')}`);
if (counts.stale.length) console.log(`conformance: STALE BASELINE, update ${rel}: ${counts.stale.join(', ')}`);
console.log(
  `conformance: ${scenarios.length} scenarios (suite ${suiteSecs} s, ${totalSecs} s in all): ${counts.pass} passed, ` +
    `${counts.expected} expected failures (baseline), ${counts.unexpected.length} unexpected failures, ${counts.stale.length} stale baseline entries`,
);
fs.writeFileSync(closingFile, `conformance: ${counts.pass} passed, ${counts.unexpected.length + counts.stale.length} failed, ${counts.expected} skipped\n`);
process.exit(counts.unexpected.length || counts.stale.length ? 1 : 0);
