import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection now. V8 collects when its own heap grows, not
 * when large typed arrays (memory outside its heap) become garbage: the CLV
 * stage's patterns and intervals, hundreds of MB at 10M customers, would
 * stay resident while the engine writes the outputs, the run's peak.
 */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
