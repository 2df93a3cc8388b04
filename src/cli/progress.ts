import { createRequire } from 'node:module';

/**
 * A stage progress line on an interactive terminal, shown only once a stage
 * has run for a second (short runs stay quiet). Never on a pipe or in cron.
 */
export function createStageProgress(enabled: boolean, totalStages: number): { stage(name: string): () => void; stop(): void } {
  if (!enabled) return { stage: () => () => {}, stop: () => {} };
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { format: 'crm {bar} {value}/{total} stages | {stage} {elapsed}s', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  // Stages by name: one timed in two steps (clv) counts once.
  const finished = new Set<string>();
  let done = 0;
  let started = false;
  return {
    stage(name) {
      const begin = Date.now();
      const tick = setInterval(() => {
        const elapsed = ((Date.now() - begin) / 1000).toFixed(0);
        if (!started) {
          bar.start(totalStages, done, { stage: name, elapsed });
          started = true;
        }
        bar.update(done, { stage: name, elapsed });
      }, 1000);
      return () => {
        clearInterval(tick);
        finished.add(name);
        done = finished.size;
        if (started) bar.update(done, { stage: name, elapsed: ((Date.now() - begin) / 1000).toFixed(0) });
      };
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
