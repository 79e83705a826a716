#!/usr/bin/env node
// node scripts/test.mjs <vitest-report.json>
// Reads the JSON report of `vitest run --reporter=json --outputFile.json=...` (bin/gateway test writes
// .run/vitest.json) and prints the final plain line `tests: N passed, N failed`. Exits 1 when a test failed,
// a test file failed to load, or there is no report (vitest itself crashed).
import { existsSync, readFileSync } from 'node:fs';
import { summarizeVitest } from './lib/launcher.mjs';

const file = process.argv[2] ?? '.run/vitest.json';
if (!existsSync(file)) {
  process.stdout.write(`vitest wrote no report (${file}): it failed before running the tests (see above)\n`);
  process.stdout.write('tests: 0 passed, 1 failed\n');
  process.exit(1);
}
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  process.stdout.write(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.stdout.write('tests: 0 passed, 1 failed\n');
  process.exit(1);
}
const s = summarizeVitest(report);
for (const t of s.failedTests) process.stdout.write(`  failed: ${t}\n`);
for (const f of s.brokenFiles) process.stdout.write(`  file failed before its tests ran: ${f}\n`);
if (s.skipped) process.stdout.write(`  (${s.skipped} skipped or todo)\n`);
process.stdout.write(`tests: ${s.passed} passed, ${s.failed} failed\n`);
process.exit(s.failed > 0 || report.success === false ? 1 : 0);
