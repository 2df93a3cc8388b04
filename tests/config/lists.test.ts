import { describe, expect, it } from 'vitest';
import { LIFECYCLE_STAGES, SEGMENT_NAMES, TABLE_FORMATS } from '../../src/config/lists.js';
import { EXTENSION } from '../../src/io/writers.js';
import { DEFAULT_SEGMENT_MAP } from '../../src/stages/rfm/segmentMap.js';
import { LIFECYCLE_STAGES as SQL_LIFECYCLE_STAGES } from '../../src/stages/lifecycle/queries.js';

/**
 * One list per concept lives in src/config/lists.ts. Until the stages and src/io
 * (other branches of issue 14) take theirs from there, their copies must say the same.
 */
describe('one list per concept', () => {
  it('the lifecycle stages are the funnel of DESIGN §3, and the stage SQL has the same', () => {
    expect([...LIFECYCLE_STAGES]).toEqual(['new', 'active', 'loyal', 'reactivated', 'at_risk', 'lapsed', 'lost']);
    expect([...SQL_LIFECYCLE_STAGES]).toEqual([...LIFECYCLE_STAGES]);
  });

  it('the default segment map names the segments of the list, in its order', () => {
    expect([...DEFAULT_SEGMENT_MAP.keys()]).toEqual([...SEGMENT_NAMES]);
  });

  it('every table format has its file extension, and no other', () => {
    expect(Object.keys(EXTENSION).sort()).toEqual([...TABLE_FORMATS].sort());
  });
});
