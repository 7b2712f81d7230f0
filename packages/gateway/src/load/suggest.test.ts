/** "Did you mean": which misspellings find their word and which find nothing. */
import { describe, expect, it } from 'vitest';
import { suggestName } from './suggest.js';

describe('suggestName', () => {
  it.each([
    ['path_prefx', ['path', 'path_prefix', 'path_regex'], 'path_prefix'],
    ['pathPrefix', ['path', 'path_prefix'], 'path_prefix'],
    ['Path-Prefix', ['path', 'path_prefix'], 'path_prefix'],
    ['ketma', ['round_robin', 'ketama', 'fnv'], 'ketama'],
    ['rnadom', ['round_robin', 'random'], 'random'],
    ['grace_period', ['grace_period_seconds', 'threads'], 'grace_period_seconds'],
    ['ap', ['app', 'api2'], 'app'],
  ])('%s → %s', (word, candidates, expected) => {
    expect(suggestName(word, candidates)).toBe(expected);
  });

  it.each([
    ['zebra', ['path', 'host']],
    ['h3', ['h1', 'h2', 'h2h1']],
    ['xy', ['ab', 'cd']],
  ])('%s finds nothing in %j', (word, candidates) => {
    expect(suggestName(word, candidates)).toBeUndefined();
  });
});
