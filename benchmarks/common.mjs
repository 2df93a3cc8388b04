// Pieces every benchmark script uses.
import { existsSync } from 'node:fs';

/** Exits 2, saying how to make it, when a file the benchmark needs is missing. */
export function requireFile(file, howToMakeIt) {
  if (!existsSync(file)) {
    process.stderr.write(`${file} not found: ${howToMakeIt}\n`);
    process.exit(2);
  }
}

export const NO_DATA = 'run node benchmarks/generate.mjs first';
export const NO_DIST = 'run npm run build first';

/** Machines here are shared and noisy: the benchmarks report medians of repeats. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
