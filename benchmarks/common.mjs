// Pieces every benchmark script uses.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

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

/**
 * Runs `command args`, sampling /proc/<pid>/status for the peak resident set
 * (VmHWM) every 20 ms; resolves with wall seconds, peak MB and its stderr.
 */
export function measure(command, args) {
  return new Promise((resolveRun, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peakKb = 0;
    child.stderr.on('data', (d) => (stderr += d));
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        /* process gone */
      }
    };
    const timer = setInterval(sample, 20);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
      else resolveRun({ seconds, peakMb: peakKb / 1024, stderr });
    });
  });
}
