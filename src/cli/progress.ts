/**
 * The last line of stderr on an interactive terminal, where the progress line
 * is drawn. Log lines go through writeAbove, which clears it, writes the log
 * lines and redraws it in one write: the log scrolls above and the progress
 * line stays at the bottom. (cli-progress saved and restored the cursor
 * position around its bar, which sent later output back over earlier lines.)
 */
let statusLine = '';
const CLEAR_LINE = '\r\x1b[2K';

export function writeAbove(text: string): void {
  process.stderr.write(statusLine ? `${CLEAR_LINE}${text}${statusLine}` : text);
}

function showStatus(text: string): void {
  // One character short of the width: a line that wraps could not be cleared with one erase.
  const width = process.stderr.columns;
  statusLine = width ? text.slice(0, width - 1) : text;
  process.stderr.write(`${CLEAR_LINE}${statusLine}`);
}

function clearStatus(): void {
  if (statusLine) process.stderr.write(CLEAR_LINE);
  statusLine = '';
}

/** `crm ██████░░░░ 3/8 stages | rfm 2s` */
export function progressLine(done: number, total: number, stage: string, seconds: number, width = 20): string {
  const filled = Math.round((width * Math.min(done, total)) / total);
  return `crm ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${done}/${total} stages | ${stage} ${Math.floor(seconds)}s`;
}

// Tests set CRM_PROGRESS_DELAY_MS=0 to draw the line without a run long enough to wait for.
const showAfterMs = () => Number(process.env.CRM_PROGRESS_DELAY_MS ?? 1000);

/**
 * A stage progress line on an interactive terminal, shown only once a stage
 * has run for a second (short runs stay quiet), then kept until the run ends.
 * Never on a pipe or in cron.
 */
export function createStageProgress(enabled: boolean, totalStages: number): { stage(name: string): () => void; stop(): void } {
  if (!enabled) return { stage: () => () => {}, stop: () => {} };
  // Stages by name: one timed in two steps (clv) counts once.
  const finished = new Set<string>();
  let shown = false;
  return {
    stage(name) {
      const begin = Date.now();
      const draw = () => {
        shown = true;
        showStatus(progressLine(finished.size, totalStages, name, (Date.now() - begin) / 1000));
      };
      if (shown) draw();
      let timer = setTimeout(function tick() {
        draw();
        timer = setTimeout(tick, 1000).unref();
      }, shown ? 1000 : showAfterMs()).unref();
      return () => {
        clearTimeout(timer);
        finished.add(name);
        if (shown) draw();
      };
    },
    stop() {
      clearStatus();
    },
  };
}
