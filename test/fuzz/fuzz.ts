/**
 * `npm run fuzz -- --count N [--seed S] [--json]`: damaged PDFs and images through
 * the real upload path (see fuzz-run.ts). Prints progress on stderr and the report;
 * exits 1 when any file broke a rule (a crash, a hang, rows or files left behind).
 */
import { parseArgs } from 'node:util';
import { runFuzz } from './fuzz-run.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    json: { type: 'boolean' },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
  process.stderr.write('Usage: npm run fuzz -- --count <files> [--seed <integer>] [--json]\n');
  process.exit(2);
}
const report = await runFuzz({
  count,
  seed,
  onFile: (index, sofar) => {
    if ((index + 1) % 100 === 0 || index + 1 === count) {
      process.stderr.write(
        `${index + 1}/${count} files, ${Math.round(sofar.wallMs / 1000)} s: ${sofar.strayRejections} stray rejections, ` +
          `${sofar.hangs} hangs, ${sofar.partialRows} partial rows, ${sofar.leftoverFiles} leftover files\n`,
      );
    }
  },
});
console.log(values.json ? JSON.stringify(report) : JSON.stringify(report, null, 2));
const broken = report.strayRejections + report.hangs + report.partialRows + report.leftoverFiles;
process.exitCode = broken === 0 ? 0 : 1;
